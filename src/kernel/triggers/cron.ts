/**
 * Checks a trigger's cron expression at boot, without a database (pg-boss only parses it when the
 * schedule is registered, which is too late to name the trigger). Five fields — minute, hour, day of
 * month, month, day of week — because pg-boss evaluates schedules once a minute: a sixth (seconds)
 * field would promise a precision it does not have. Each field is a comma-separated list of `*`, a
 * value or a range `a-b`, each with an optional step `/n`; months and weekdays may be named.
 * `nextCronTime` answers when an expression next fires, for schedules that rows carry (integration
 * sources), which no pg-boss schedule runs.
 */

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldRule[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  // 0 and 7 are both Sunday, as in cron.
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

function value(text: string, rule: FieldRule): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    return n >= rule.min && n <= rule.max ? n : undefined;
  }
  const index = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index === -1) return undefined;
  return rule.name === "month" ? index + 1 : index;
}

function itemProblem(item: string, rule: FieldRule): string | undefined {
  const [range = "", step, extra] = item.split("/");
  if (extra !== undefined) return `"${item}" has two steps`;
  if (step !== undefined && !(/^\d{1,2}$/.test(step) && Number(step) >= 1)) {
    return `step "${step}" must be a positive number`;
  }
  if (range === "*") return undefined;
  const [from = "", to, more] = range.split("-");
  if (more !== undefined) return `"${range}" is not a range`;
  const a = value(from, rule);
  if (a === undefined) return `"${from}" is not a ${rule.name} (${rule.min}-${rule.max})`;
  if (to === undefined) return undefined;
  const b = value(to, rule);
  if (b === undefined) return `"${to}" is not a ${rule.name} (${rule.min}-${rule.max})`;
  return a > b ? `range "${range}" runs backwards` : undefined;
}

/** Why the expression is not a five-field cron expression, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== FIELDS.length) {
    return `must have 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  for (const [i, field] of fields.entries()) {
    const rule = FIELDS[i];
    if (rule === undefined) continue;
    for (const item of field.split(",")) {
      const problem = itemProblem(item, rule);
      if (problem !== undefined) return `${rule.name} field: ${problem}`;
    }
  }
  return undefined;
}

/** The values one field allows (an item `cronProblem` accepted): `a/n` runs from a to the maximum. */
function fieldValues(field: string, rule: FieldRule): Set<number> {
  const out = new Set<number>();
  for (const item of field.split(",")) {
    const [range = "*", stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const [fromText = "", toText] = range.split("-");
    const from = range === "*" ? rule.min : (value(fromText, rule) ?? rule.min);
    const to =
      range === "*" || (toText === undefined && stepText !== undefined)
        ? rule.max
        : toText === undefined
          ? from
          : (value(toText, rule) ?? from);
    // Day of week 7 is Sunday, as 0 is.
    for (let v = from; v <= to; v += step) out.add(rule.name === "day of week" && v === 7 ? 0 : v);
  }
  return out;
}

const DAY_MS = 86_400_000;
// Far enough for any expression that can fire (29 February comes within 8 years); bounds the search.
const SEARCH_DAYS = 8 * 366;

/**
 * The first minute strictly after `after` that the expression names (UTC), or undefined when it names
 * none (`0 0 31 2 *`) or is not valid. As in cron, when both day of month and day of week are
 * restricted (neither starts with `*`), a day matching either fires.
 */
export function nextCronTime(expression: string, after: Date): Date | undefined {
  if (cronProblem(expression) !== undefined) return undefined;
  const fields = expression.trim().split(/\s+/);
  const [minutes, hours, days, months, weekdays] = FIELDS.map((rule, i) =>
    fieldValues(fields[i] ?? "*", rule),
  );
  if (!minutes || !hours || !days || !months || !weekdays) return undefined;
  const either = !(fields[2] ?? "*").startsWith("*") && !(fields[4] ?? "*").startsWith("*");
  const sortedHours = [...hours].sort((a, b) => a - b);
  const sortedMinutes = [...minutes].sort((a, b) => a - b);
  const earliest = Math.floor(after.getTime() / 60_000) * 60_000 + 60_000;
  const firstDay = Math.floor(earliest / DAY_MS) * DAY_MS;
  for (let i = 0; i < SEARCH_DAYS; i += 1) {
    const day = new Date(firstDay + i * DAY_MS);
    if (!months.has(day.getUTCMonth() + 1)) continue;
    const dom = days.has(day.getUTCDate());
    const dow = weekdays.has(day.getUTCDay());
    if (either ? !(dom || dow) : !(dom && dow)) continue;
    for (const h of sortedHours) {
      for (const m of sortedMinutes) {
        const at = day.getTime() + h * 3_600_000 + m * 60_000;
        if (at >= earliest) return new Date(at);
      }
    }
  }
  return undefined;
}

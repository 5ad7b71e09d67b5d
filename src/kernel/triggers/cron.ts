/**
 * Checks a trigger's cron expression at boot, without a database (pg-boss only parses it when the
 * schedule is registered, which is too late to name the trigger). Five fields — minute, hour, day of
 * month, month, day of week — because pg-boss evaluates schedules once a minute: a sixth (seconds)
 * field would promise a precision it does not have. Each field is a comma-separated list of `*`, a
 * value or a range `a-b`, each with an optional step `/n`; months and weekdays may be named.
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

/**
 * What an identity command hands back: one JSON document for `--json`, lines for people otherwise,
 * and notes for stderr. Printing is left to the runner, so that stdout carries the output alone.
 */
export interface CommandResult {
  readonly json: unknown;
  readonly plain: readonly string[];
  /** Said on stderr in both modes (e.g. that a token is shown only once). */
  readonly notes?: readonly string[];
}

/** A timestamp as commands show it; null and undefined as "-" (plain) are the caller's business. */
export function iso(value: unknown): string | null {
  if (value instanceof Date) return value.toISOString();
  return typeof value === "string" ? value : null;
}

/** Text of a value for a table cell. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** Columns padded to their widest cell, a header first; "(none)" when there are no rows. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string[] {
  if (rows.length === 0) return ["(none)"];
  const text = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...text.map(line)];
}

export function printResult(result: CommandResult, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(result.json)}\n`);
  else for (const l of result.plain) process.stdout.write(`${l}\n`);
  for (const n of result.notes ?? []) process.stderr.write(`${n}\n`);
}

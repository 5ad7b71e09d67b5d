import { SondeError } from "../../lib/errors.js";
import type { ChangeContext } from "../resource/types.js";
import type { NamedAction } from "./authorize.js";

/** Runs the action's changes in order, then its validations on the result. */
export function applyChanges(
  action: NamedAction,
  values: Record<string, unknown>,
  ctx: ChangeContext,
): Record<string, unknown> {
  let out = { ...values };
  for (const change of action.changes ?? []) out = change(out, ctx);
  for (const validate of action.validations ?? []) {
    const problem = validate(out, ctx);
    if (problem !== undefined) {
      throw new SondeError("SONDE_VALIDATION_FAILED", `${problem.field}: ${problem.message}`, {
        pointer: `/data/attributes/${problem.field}`,
        meta: { field: problem.field },
      });
    }
  }
  return out;
}

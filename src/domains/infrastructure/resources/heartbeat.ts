import type { Change } from "../../../kernel/resource/types.js";

/**
 * A heartbeat applied by core (pollers' and agents' `register` and `heartbeat`): when core saw it,
 * on core's clock (what the missed-heartbeat sweep reads), and the first sighting, once.
 */
export const seen: Change = (values, ctx) => {
  const now = new Date();
  return {
    ...values,
    last_seen_at: now,
    ...(ctx.record === undefined || ctx.record.first_seen === null ? { first_seen: now } : {}),
  };
};

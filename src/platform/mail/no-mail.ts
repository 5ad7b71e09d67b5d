import { SondeError } from "../../lib/errors.js";
import type { Mailer } from "./types.js";

/**
 * A mailer for components that must never send mail (the first run's transaction-bound auth
 * instance, the CLI's): a send from one of them is a bug, and says so instead of going nowhere.
 */
export function noMailer(who: string): Mailer {
  return {
    send: () => Promise.reject(new SondeError("SONDE_INTERNAL", `${who} sends no mail`)),
    close: () => Promise.resolve(),
  };
}

import { SondeError } from "../../lib/errors.js";
import type { Config } from "../config/index.js";
import type { Logger } from "../log/logger.js";
import { parseMailbox } from "./address.js";
import { createDevMailboxMailer, DevMailbox } from "./dev-mailbox.js";
import { createSmtpMailer } from "./smtp.js";
import { parseSmtpUrl } from "./smtp-url.js";
import type { Mailer } from "./types.js";

export { type Mailbox, parseMailbox, validateMail } from "./address.js";
export { createDevMailboxMailer, DevMailbox, type MailboxFilter, type StoredMail } from "./dev-mailbox.js";
export { createSmtpMailer, type SmtpMailerOptions } from "./smtp.js";
export { parseSmtpUrl, SMTP_URL_PARAMS, type SmtpTarget } from "./smtp-url.js";
export type { Mailer, OutgoingMail, SentMail } from "./types.js";

export type MailConfig = Pick<Config, "SMTP_URL" | "SONDE_MAIL_FROM" | "mode">;

export interface MailSetup {
  readonly mailer: Mailer;
  /**
   * Set only in the embedded mode without `SMTP_URL`, the one case where `/dev/mailbox` may be
   * served; register `devMailboxRoutes` exactly when this is defined.
   */
  readonly devMailbox: DevMailbox | undefined;
}

/**
 * Chooses the mailer: SMTP when `SMTP_URL` is set; otherwise the dev mailbox, which in the embedded
 * mode keeps and logs mails in full, and with PostgreSQL (a shared deployment, whose logs others
 * read) delivers nothing and logs only recipient and subject. PostgreSQL without SMTP still starts,
 * because monitoring does not need mail; the warning below says what does not work.
 */
export function createMailer(config: MailConfig, logger: Logger): MailSetup {
  const log = logger.child({ component: "mail" });
  const from = parseMailbox(config.SONDE_MAIL_FROM);
  if (from === undefined) throw new SondeError("SONDE_CONFIG_INVALID", "SONDE_MAIL_FROM is not an address");

  if (config.SMTP_URL !== undefined) {
    const parsed = parseSmtpUrl(config.SMTP_URL);
    if (!parsed.ok) throw new SondeError("SONDE_CONFIG_INVALID", `SMTP_URL ${parsed.problem}`);
    log.info({ relay: parsed.target.display, from: from.address }, "mail goes through the SMTP relay");
    if (from.address.toLowerCase().endsWith("@localhost")) {
      log.warn({ from: from.address }, "SONDE_MAIL_FROM is a localhost address; relays commonly refuse it");
    }
    return { mailer: createSmtpMailer({ target: parsed.target, from, logger: log }), devMailbox: undefined };
  }

  if (config.mode.database === "embedded") {
    const devMailbox = new DevMailbox();
    log.info("SMTP_URL is not set: mails are logged and kept in the dev mailbox at /dev/mailbox");
    return { mailer: createDevMailboxMailer({ from, logger: log, mailbox: devMailbox }), devMailbox };
  }

  log.warn(
    "SMTP_URL is not set: mail (sign-in links, invitations, password resets) is NOT delivered; each mail is logged by recipient and subject only",
  );
  return { mailer: createDevMailboxMailer({ from, logger: log, mailbox: undefined }), devMailbox: undefined };
}

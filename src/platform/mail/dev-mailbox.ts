import { randomUUID } from "node:crypto";
import { SondeError } from "../../lib/errors.js";
import type { Logger } from "../log/logger.js";
import { type Mailbox, parseMailbox, validateMail } from "./address.js";
import type { Mailer, OutgoingMail } from "./types.js";

export interface StoredMail {
  readonly id: string;
  /** ISO 8601 time the mail was sent. */
  readonly at: string;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | undefined;
  readonly tag: string | undefined;
}

export interface MailboxFilter {
  /** Recipient address, compared case-insensitively without the display name. */
  readonly to?: string;
  readonly tag?: string;
}

/**
 * The last `capacity` mails, newest first, in memory only: a development aid that a restart
 * empties, so sign-in links never reach the disk.
 */
export class DevMailbox {
  private mails: StoredMail[] = [];

  constructor(readonly capacity = 200) {}

  add(mail: StoredMail): void {
    this.mails.unshift(mail);
    if (this.mails.length > this.capacity) this.mails.length = this.capacity;
  }

  list(filter: MailboxFilter = {}): readonly StoredMail[] {
    const to = filter.to === undefined ? undefined : (parseMailbox(filter.to)?.address ?? filter.to);
    return this.mails.filter(
      (m) =>
        (to === undefined || parseMailbox(m.to)?.address.toLowerCase() === to.toLowerCase()) &&
        (filter.tag === undefined || m.tag === filter.tag),
    );
  }

  clear(): void {
    this.mails = [];
  }
}

function formatMailbox(m: Mailbox): string {
  return m.name === undefined ? m.address : `${m.name} <${m.address}>`;
}

export interface DevMailboxMailerOptions {
  readonly from: Mailbox;
  readonly logger: Logger;
  /**
   * Where mails are kept and logged in full (embedded development mode). Without it, mail is not
   * delivered at all: each one is logged as a warning with recipient, subject and tag only, because
   * its body holds sign-in links that a shared production log must not carry.
   */
  readonly mailbox: DevMailbox | undefined;
}

/** A mailer with no relay. It validates like the SMTP one, so a bad mail fails in development too. */
export function createDevMailboxMailer(options: DevMailboxMailerOptions): Mailer {
  const { mailbox, logger } = options;
  const from = formatMailbox(options.from);
  let closed = false;
  return {
    async send(mail: OutgoingMail) {
      if (closed) throw new SondeError("SONDE_SHUTTING_DOWN", "the mailer is closed");
      validateMail(mail);
      const id = randomUUID();
      const { to, subject, tag } = mail;
      if (mailbox === undefined) {
        logger.warn({ mailId: id, to, subject, tag }, "mail not delivered: SMTP_URL is not set");
        return { id };
      }
      mailbox.add({
        id,
        at: new Date().toISOString(),
        from,
        to,
        subject,
        text: mail.text,
        html: mail.html,
        tag,
      });
      logger.info(
        { mailId: id, to, subject, tag, text: mail.text },
        "mail kept in the dev mailbox (/dev/mailbox)",
      );
      return { id };
    },
    async close() {
      closed = true;
    },
  };
}

import { createTransport } from "nodemailer";
import { SondeError } from "../../lib/errors.js";
import type { Logger } from "../log/logger.js";
import { type Mailbox, parseMailbox, validateMail } from "./address.js";
import { smtpFailure } from "./smtp-errors.js";
import type { SmtpTarget } from "./smtp-url.js";
import type { Mailer, OutgoingMail, SentMail } from "./types.js";

/** nodemailer's address form; an object so that it never re-parses a display name. */
function addressOf(mailbox: Mailbox): string | { name: string; address: string } {
  return mailbox.name === undefined ? mailbox.address : { name: mailbox.name, address: mailbox.address };
}

export interface SmtpMailerOptions {
  readonly target: SmtpTarget;
  /** Validated From mailbox (`SONDE_MAIL_FROM`). */
  readonly from: Mailbox;
  readonly logger: Logger;
  /** Connect and greeting bound; a silent relay fails a send in seconds, not nodemailer's 2 minutes. */
  readonly timeoutMs?: number;
  readonly maxConnections?: number;
}

/**
 * Delivers through an SMTP relay over a small pool of reused connections (a burst of invitations
 * does not open one connection per mail). Failures become SONDE_MAIL_FAILED without credentials.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const { target, from, logger } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = createTransport(
    {
      pool: true,
      maxConnections: options.maxConnections ?? 5,
      host: target.host,
      port: target.port,
      secure: target.secure,
      auth: target.auth === undefined ? undefined : { user: target.auth.user, pass: target.auth.pass },
      requireTLS: target.requireTLS,
      ignoreTLS: target.ignoreTLS,
      tls: { rejectUnauthorized: target.rejectUnauthorized },
      name: target.name,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs * 3,
      // nodemailer's own logging would print whole messages; Sonde logs what is safe itself.
      logger: false,
      debug: false,
      // Mails are built from templates: nothing in them may make the transport read files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
    },
    { from: addressOf(from) },
  );
  const inflight = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  async function deliver(mail: OutgoingMail): Promise<SentMail> {
    const to = parseMailbox(mail.to);
    if (to === undefined) throw new SondeError("SONDE_INTERNAL", "validated recipient did not parse");
    try {
      const info = await transport.sendMail({
        to: addressOf(to),
        subject: mail.subject,
        text: mail.text,
        ...(mail.html === undefined ? {} : { html: mail.html }),
        ...(mail.tag === undefined ? {} : { headers: { "X-Sonde-Tag": mail.tag } }),
      });
      logger.info({ mailId: info.messageId, tag: mail.tag }, "mail sent");
      return { id: info.messageId };
    } catch (err) {
      throw smtpFailure(err, "send mail", target);
    }
  }

  return {
    async send(mail) {
      if (closing !== undefined) throw new SondeError("SONDE_SHUTTING_DOWN", "the mailer is closed");
      validateMail(mail);
      const pending = deliver(mail);
      inflight.add(pending);
      try {
        return await pending;
      } finally {
        inflight.delete(pending);
      }
    },
    async ping() {
      try {
        await transport.verify();
      } catch (err) {
        throw smtpFailure(err, "reach the mail relay", target);
      }
    },
    close() {
      closing ??= Promise.allSettled([...inflight]).then(() => transport.close());
      return closing;
    },
  };
}

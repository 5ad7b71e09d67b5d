/**
 * Mail: the one way Sonde sends e-mail (magic links, address confirmations, password resets,
 * invitations).
 *
 * Terminology:
 * - mailer: what domain code calls. Two implementations: SMTP (a relay named by `SMTP_URL`) and the
 *   dev mailbox (no relay: mails are logged and, in the embedded mode, kept in memory for
 *   `/dev/mailbox`). Callers never know which one they hold.
 * - tag: a short kebab-case label naming the kind of mail (`magic-link`, `invitation`). It travels
 *   as the `X-Sonde-Tag` header over SMTP and is a filter in the dev mailbox, so tests and relays
 *   can pick mails out without parsing subjects.
 *
 * Mails carry sign-in links, which are secrets: only the dev mailbox of the embedded mode ever logs
 * or shows a mail's body.
 */

/** One message to one recipient. Text is required because every client can show it. */
export interface OutgoingMail {
  /** `alice@example.com` or `Alice <alice@example.com>`; exactly one recipient. */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** Kind of mail, lower-case kebab-case, e.g. "magic-link". */
  readonly tag?: string;
}

export interface SentMail {
  /** Opaque id: the Message-ID over SMTP, a generated one in the dev mailbox. Safe to log. */
  readonly id: string;
}

export interface Mailer {
  /**
   * Sends one mail. Rejects with SONDE_VALIDATION_FAILED for a malformed mail (same rules in every
   * implementation), SONDE_MAIL_FAILED (retryable; `meta.permanent` when the relay refused for good)
   * when the relay fails, SONDE_SHUTTING_DOWN after close().
   */
  send(mail: OutgoingMail): Promise<SentMail>;
  /** Connects and authenticates to the relay; absent when there is no relay to ask. */
  ping?(): Promise<void>;
  /** Waits for mails being sent, then releases connections. Idempotent. */
  close(): Promise<void>;
}

import { SondeError } from "../../lib/errors.js";
import type { OutgoingMail } from "./types.js";

/**
 * Deliberately narrower than RFC 5322: no comments, groups, quoted local parts or address lists.
 * Sonde writes one mailbox per header, and a grammar without control characters, commas or stray
 * angle brackets leaves no room for header injection or a mail silently going to two people.
 */
const PART = String.raw`[^\s\p{Cc}@<>()\[\]\\,;:".]+`;
const DOT_ATOM = `${PART}(?:\\.${PART})*`;
const ADDR_SPEC = `${DOT_ATOM}@${DOT_ATOM}`;
const BARE = new RegExp(`^(${ADDR_SPEC})$`, "u");
const NAMED = new RegExp(String.raw`^(?:"([^"\\\p{Cc}]*)"|([^"<>,;:@\\\p{Cc}]*?))\s*<(${ADDR_SPEC})>$`, "u");
const TAG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const CONTROL = /\p{Cc}/u;

export interface Mailbox {
  readonly address: string;
  readonly name?: string;
}

/** `a@b.example` or `Name <a@b.example>` (the name optionally quoted); undefined when malformed. */
export function parseMailbox(value: string): Mailbox | undefined {
  const input = value.trim();
  const bare = BARE.exec(input);
  const named = bare ? null : NAMED.exec(input);
  const address = bare?.[1] ?? named?.[3];
  // 254: the longest address SMTP's path limit lets through.
  if (address === undefined || address.length > 254) return undefined;
  const name = (named?.[1] ?? named?.[2])?.trim();
  return name ? { address, name } : { address };
}

function invalid(field: keyof OutgoingMail, problem: string): SondeError {
  // The value is not echoed: addresses are personal data and texts carry sign-in links.
  return new SondeError("SONDE_VALIDATION_FAILED", `mail ${field} ${problem}`, { meta: { field } });
}

/**
 * The same rules for every mailer, so a mail that the dev mailbox accepts in development is one the
 * SMTP relay gets in production.
 */
export function validateMail(mail: OutgoingMail): void {
  if (typeof mail.to !== "string" || parseMailbox(mail.to) === undefined) {
    throw invalid("to", "must be one address, such as alice@example.com or Alice <alice@example.com>");
  }
  // 998: the longest header line RFC 5322 allows.
  if (typeof mail.subject !== "string" || mail.subject.trim() === "" || mail.subject.length > 998) {
    throw invalid("subject", "must be between 1 and 998 characters");
  }
  if (CONTROL.test(mail.subject))
    throw invalid("subject", "must not contain line breaks or control characters");
  if (typeof mail.text !== "string" || mail.text.trim() === "") throw invalid("text", "must not be empty");
  if (mail.html !== undefined && typeof mail.html !== "string") throw invalid("html", "must be a string");
  if (
    mail.tag !== undefined &&
    (typeof mail.tag !== "string" || mail.tag.length > 64 || !TAG.test(mail.tag))
  ) {
    throw invalid("tag", "must be lower-case kebab-case, at most 64 characters, such as magic-link");
  }
}

import { type ErrorMeta, SondeError } from "../../lib/errors.js";
import type { SmtpTarget } from "./smtp-url.js";

/** The fields nodemailer sets on its errors (smtp-connection `_formatError`). */
interface NodemailerErrorFields {
  readonly code?: unknown;
  readonly originalCode?: unknown;
  readonly responseCode?: unknown;
  readonly response?: unknown;
  readonly command?: unknown;
}

const REASONS: Readonly<Record<string, string>> = {
  EAUTH: "the relay refused the credentials",
  ENOAUTH: "the relay requires credentials",
  ECONNECTION: "the connection failed",
  ESOCKET: "the connection failed",
  ETIMEDOUT: "the relay did not answer in time",
  EDNS: "the relay's host name did not resolve",
  ETLS: "TLS failed",
  EREQUIRETLS: "the relay does not offer TLS",
  EENVELOPE: "the relay refused the sender or the recipient",
  EMESSAGE: "the relay refused the message",
  EPROTOCOL: "the relay answered outside the SMTP protocol",
};

const CERTIFICATE_REASON = "the relay's TLS certificate was refused";
const CERTIFICATE_HINT =
  "; trust its CA with NODE_EXTRA_CA_CERTS, or accept a self-signed relay with tls.rejectUnauthorized=false in SMTP_URL";

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Error codes (EAUTH, ECONNREFUSED, CERT_HAS_EXPIRED) are identifiers, safe to show; nothing else is. */
function identifier(value: unknown): string | undefined {
  const t = text(value);
  return t !== undefined && /^[A-Z][A-Z0-9_]*$/.test(t) ? t : undefined;
}

/**
 * The server's reply is kept (as the error's cause, which goes to logs and never to clients) for
 * everything but authentication: a relay may echo the AUTH exchange, whose base64 holds the
 * password. The literal credentials are scrubbed from it all the same.
 */
function safeCause(e: NodemailerErrorFields, target: SmtpTarget): Error | undefined {
  const response = text(e.response);
  const command = text(e.command) ?? "";
  if (response === undefined || command.startsWith("AUTH") || text(e.code) === "EAUTH") return undefined;
  let scrubbed = response;
  for (const secret of [target.auth?.pass, target.auth?.user]) {
    if (secret !== undefined && secret.length > 0) scrubbed = scrubbed.split(secret).join("***");
  }
  return new Error(`relay replied to ${command || "the client"}: ${scrubbed}`);
}

/**
 * Maps a nodemailer failure onto SONDE_MAIL_FAILED. The message is built from codes only, never
 * from nodemailer's text, and names the relay by its redacted address.
 */
export function smtpFailure(err: unknown, action: string, target: SmtpTarget): SondeError {
  const e: NodemailerErrorFields = typeof err === "object" && err !== null ? err : {};
  const code = identifier(e.code) ?? "unknown";
  const original = identifier(e.originalCode);
  const status = typeof e.responseCode === "number" ? e.responseCode : undefined;
  // nodemailer reports a refused certificate as a socket error; the operator needs to know it was TLS.
  const certificate = original !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_/.test(original);
  const kind = certificate ? "ETLS" : code;
  let reason = certificate ? CERTIFICATE_REASON : (REASONS[code] ?? "an unexpected failure");
  if (original !== undefined) reason += ` (${original})`;
  if (certificate) reason += CERTIFICATE_HINT;
  if (status !== undefined) reason += ` (SMTP ${status})`;
  const meta: ErrorMeta = {
    reason: kind,
    ...(status === undefined ? {} : { smtpStatus: status }),
    // 5xx: the relay will refuse the same mail again; retrying needs a change, not time.
    permanent: status !== undefined && status >= 500,
  };
  const cause = safeCause(e, target);
  return new SondeError("SONDE_MAIL_FAILED", `cannot ${action} through ${target.display}: ${reason}`, {
    meta,
    ...(cause === undefined ? {} : { cause }),
  });
}

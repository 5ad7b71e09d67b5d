/**
 * `SMTP_URL` → connection settings. Sonde reads the URL itself instead of handing it to nodemailer,
 * which would turn any query parameter into a transport option (including `logger` and `debug`,
 * which print whole messages, sign-in links and all, to stdout). Only the parameters below pass.
 */
const BOOLEAN_PARAMS = ["requireTLS", "ignoreTLS", "tls.rejectUnauthorized"] as const;
const STRING_PARAMS = ["name"] as const;
export const SMTP_URL_PARAMS: readonly string[] = [...BOOLEAN_PARAMS, ...STRING_PARAMS];

export interface SmtpTarget {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (smtps://); otherwise STARTTLS is used when the relay offers it. */
  readonly secure: boolean;
  readonly auth: { readonly user: string; readonly pass: string } | undefined;
  /** Fail instead of sending in clear text when the relay does not offer STARTTLS. */
  readonly requireTLS: boolean;
  readonly ignoreTLS: boolean;
  /** false only for a relay with a self-signed certificate, by explicit choice. */
  readonly rejectUnauthorized: boolean;
  /** Name sent in EHLO; nodemailer uses the host name when unset. */
  readonly name: string | undefined;
  /** `smtp://***@host:587`: safe for logs and error messages. */
  readonly display: string;
}

export type SmtpUrlResult =
  { readonly ok: true; readonly target: SmtpTarget } | { readonly ok: false; readonly problem: string };

function fail(problem: string): SmtpUrlResult {
  return { ok: false, problem };
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** Never includes the URL's credentials in a problem: the whole value is a secret. */
export function parseSmtpUrl(value: string): SmtpUrlResult {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return fail("must be an smtp:// or smtps:// URL");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    return fail("must be an smtp:// or smtps:// URL");
  }
  if (url.hostname === "") return fail("must name a host, as in smtp://mail.example.com:587");
  if (url.pathname !== "" && url.pathname !== "/") return fail("must not have a path");
  const flags = new Map<string, boolean>();
  let name: string | undefined;
  for (const [key, raw] of url.searchParams) {
    if ((BOOLEAN_PARAMS as readonly string[]).includes(key)) {
      if (raw !== "true" && raw !== "false") return fail(`parameter ${key} must be true or false`);
      flags.set(key, raw === "true");
    } else if (key === "name" && raw !== "") {
      name = raw;
    } else {
      return fail(`has an unknown parameter ${key} (allowed: ${SMTP_URL_PARAMS.join(", ")})`);
    }
  }
  const user = decode(url.username);
  const pass = decode(url.password);
  if (user === undefined || pass === undefined)
    return fail("has malformed percent-encoding in its credentials");
  const secure = url.protocol === "smtps:";
  // Submission ports: 465 for implicit TLS, 587 for STARTTLS (RFC 8314).
  const port = url.port === "" ? (secure ? 465 : 587) : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const hasAuth = user !== "" || pass !== "";
  return {
    ok: true,
    target: {
      host,
      port,
      secure,
      auth: hasAuth ? { user, pass } : undefined,
      requireTLS: flags.get("requireTLS") ?? false,
      ignoreTLS: flags.get("ignoreTLS") ?? false,
      rejectUnauthorized: flags.get("tls.rejectUnauthorized") ?? true,
      name,
      display: `${url.protocol}//${hasAuth ? "***@" : ""}${url.hostname}:${port}`,
    },
  };
}

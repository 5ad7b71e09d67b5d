import { z } from "zod";
import {
  API_TOKEN_MIN_LENGTH,
  API_TOKEN_PATTERN,
  API_TOKEN_PREFIX,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from "../../lib/credentials.js";
import { parseMailbox } from "../mail/address.js";
import { parseSmtpUrl } from "../mail/smtp-url.js";

/**
 * Every setting Sonde reads, with its default and meaning. This table is the single source for
 * validation, for `sonde config` documentation and for the README's configuration table (a test keeps
 * the README in step with it).
 */
export interface SettingDoc {
  readonly name: string;
  readonly defaultText: string;
  readonly meaning: string;
  /** Values of sensitive settings are never echoed in errors or logs. */
  readonly sensitive: boolean;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const port = z.coerce
  .number({ error: "must be a whole number" })
  .int("must be a whole number")
  .min(0, "must be between 0 and 65535")
  .max(65535, "must be between 0 and 65535");

const positiveInt = (max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`);

const bool = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])], {
    error: "must be true or false",
  })
  .transform((v) => v === true || v === "true" || v === "1" || v === "yes");

/** The URL, or undefined when the text is not one (a setting's check then reports it). */
function tryUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => ["postgres:", "postgresql:"].includes(tryUrl(v)?.protocol ?? ""), {
    error: "must be a postgres:// or postgresql:// URL",
  });

const natsUrl = z
  .string()
  .trim()
  .refine(
    (v) =>
      v.split(",").every((part) => {
        const u = tryUrl(part.trim());
        return u !== undefined && ["nats:", "tls:"].includes(u.protocol) && u.hostname !== "";
      }),
    { error: "must be one or more comma-separated nats:// or tls:// URLs" },
  );

const httpUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      const u = tryUrl(v);
      return u !== undefined && ["http:", "https:"].includes(u.protocol) && u.pathname === "/" && !u.search;
    },
    { error: "must be an http:// or https:// origin without a path, such as https://sonde.example.com" },
  )
  .transform((v) => new URL(v).origin);

const smtpUrl = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const parsed = parseSmtpUrl(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.problem });
  });

const mailFrom = z
  .string()
  .trim()
  .refine((v) => parseMailbox(v) !== undefined, {
    error: "must be one address, such as sonde@example.com or Sonde <sonde@example.com>",
  });

// better-auth validates sign-in emails with zod's default email rule, which wants a dot in the
// domain: an address it refuses could never sign in, so the same rule applies here.
const adminEmail = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: "must be an email address such as admin@example.com" }));

const adminPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

const adminToken = z
  .string()
  .trim()
  .refine((v) => v.startsWith(API_TOKEN_PREFIX), { error: `must start with ${API_TOKEN_PREFIX}` })
  .refine((v) => v.length >= API_TOKEN_MIN_LENGTH, {
    error: `must be at least ${API_TOKEN_MIN_LENGTH} characters`,
    abort: true,
  })
  .refine((v) => API_TOKEN_PATTERN.test(v), {
    error: "may hold only letters, digits and - . _ ~ + / (with = at the end), as a bearer token does",
  });

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

// The issuer as the provider names itself (discovery is read from `<issuer>/.well-known/…`). Plain
// http only on loopback: tokens and user claims cross this connection.
const oidcIssuer = z
  .string()
  .trim()
  .refine(
    (v) => {
      const u = tryUrl(v);
      if (u === undefined || u.search !== "" || u.hash !== "" || u.username !== "") return false;
      return u.protocol === "https:" || (u.protocol === "http:" && LOOPBACK_HOSTS.has(u.hostname));
    },
    { error: "must be an https:// URL without query or fragment (http:// only on localhost)" },
  )
  .transform((v) => v.replace(/\/+$/, ""));

// RFC 6749 §3.3 scope tokens, space-separated. Sonde matches users by email, so `email` is required.
const oidcScopes = z
  .string()
  .trim()
  .refine((v) => v.split(/ +/).every((s) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)), {
    error: "must be scope names separated by spaces, such as openid email profile",
  })
  .refine((v) => ["openid", "email"].every((s) => v.split(/ +/).includes(s)), {
    error: "must include openid and email (Sonde matches users by their email)",
  })
  .transform((v) => v.split(/ +/).join(" "));

const clientId = z.string().trim().min(1, "must not be empty");
const clientSecret = z.string().trim().min(1, "must not be empty");

export const settingsSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().trim().min(1, "must not be empty").default("127.0.0.1"),
  SONDE_DATA_DIR: z.string().trim().min(1, "must not be empty").default("./.sonde"),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_MIGRATION_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: positiveInt(200).default(10),
  DATABASE_CONNECT_ATTEMPTS: positiveInt(100).default(6),
  NATS_URL: natsUrl.optional(),
  NATS_INBOX_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "dot-separated tokens of letters, digits, '_' and '-'")
    .optional(),
  SONDE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  LOG_FORMAT: z.enum(["auto", "json", "pretty"], { error: "must be auto, json or pretty" }).default("auto"),
  SONDE_MIGRATE_ON_START: bool.default(true),
  SONDE_SHUTDOWN_TIMEOUT_MS: positiveInt(600_000).default(10_000),
  SONDE_BODY_LIMIT_BYTES: positiveInt(1024 * 1024 * 1024).default(1024 * 1024),
  SONDE_SYNC_MAX_BODY_BYTES: positiveInt(1024 * 1024 * 1024).default(64 * 1024 * 1024),
  SONDE_SYNC_MAX_RECORDS: positiveInt(100_000_000).default(1_000_000),
  SONDE_NODE_NAME: z.string().trim().min(1, "must not be empty").optional(),
  SONDE_CLUSTER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "use letters, digits, '_' and '-' (at most 64)")
    .default("sonde"),
  SMTP_URL: smtpUrl.optional(),
  SONDE_MAIL_FROM: mailFrom.default("Sonde <sonde@localhost>"),
  SONDE_PUBLIC_URL: httpUrl.optional(),
  SONDE_ADMIN_EMAIL: adminEmail.default("admin@sonde.localhost"),
  SONDE_ADMIN_PASSWORD: adminPassword.optional(),
  SONDE_ADMIN_TOKEN: adminToken.optional(),
  SONDE_OIDC_ISSUER: oidcIssuer.optional(),
  SONDE_OIDC_CLIENT_ID: clientId.optional(),
  SONDE_OIDC_CLIENT_SECRET: clientSecret.optional(),
  SONDE_OIDC_SCOPES: oidcScopes.default("openid email profile"),
  SONDE_GITHUB_CLIENT_ID: clientId.optional(),
  SONDE_GITHUB_CLIENT_SECRET: clientSecret.optional(),
  SONDE_GOOGLE_CLIENT_ID: clientId.optional(),
  SONDE_GOOGLE_CLIENT_SECRET: clientSecret.optional(),
});

/**
 * Settings that enable a sign-in method only together: each group is all set or all unset, and
 * loadConfig names every variable of a half-configured group.
 */
export const SIGN_IN_SETTING_GROUPS = [
  { method: "OIDC", names: ["SONDE_OIDC_ISSUER", "SONDE_OIDC_CLIENT_ID", "SONDE_OIDC_CLIENT_SECRET"] },
  { method: "GitHub", names: ["SONDE_GITHUB_CLIENT_ID", "SONDE_GITHUB_CLIENT_SECRET"] },
  { method: "Google", names: ["SONDE_GOOGLE_CLIENT_ID", "SONDE_GOOGLE_CLIENT_SECRET"] },
] as const satisfies readonly { method: string; names: readonly (keyof Settings)[] }[];

export type SettingsInput = z.input<typeof settingsSchema>;
export type Settings = z.output<typeof settingsSchema>;
export type SettingName = keyof Settings;

export const settingDocs: readonly SettingDoc[] = [
  {
    name: "PORT",
    defaultText: "8080",
    meaning: "HTTP port for the UI and APIs (0 picks a free port).",
    sensitive: false,
  },
  {
    name: "HOST",
    defaultText: "127.0.0.1",
    meaning: "Address the HTTP server binds to; `0.0.0.0` to listen on all interfaces.",
    sensitive: false,
  },
  {
    name: "SONDE_DATA_DIR",
    defaultText: "./.sonde",
    meaning: "Directory for the embedded database and the generated secret.",
    sensitive: false,
  },
  {
    name: "DATABASE_URL",
    defaultText: "unset: embedded PGlite in the data dir",
    meaning: "PostgreSQL connection URL. When set, Sonde uses PostgreSQL and requires `SONDE_SECRET`.",
    sensitive: true,
  },
  {
    name: "DATABASE_MIGRATION_URL",
    defaultText: "unset: `DATABASE_URL`",
    meaning:
      "PostgreSQL URL of the schema owner, used to apply migrations when `DATABASE_URL` names a separate, non-owner login role (see docs/operations.md).",
    sensitive: true,
  },
  {
    name: "DATABASE_POOL_MAX",
    defaultText: "10",
    meaning: "Maximum PostgreSQL connections in the pool.",
    sensitive: false,
  },
  {
    name: "DATABASE_CONNECT_ATTEMPTS",
    defaultText: "6",
    meaning:
      "Attempts to reach the database at start (exponential backoff from 250 ms, capped at 5 s) before exiting non-zero.",
    sensitive: false,
  },
  {
    name: "NATS_URL",
    defaultText: "unset: in-process bus",
    meaning: "NATS server URL(s), comma-separated. When set, Sonde uses NATS JetStream.",
    sensitive: true,
  },
  {
    name: "NATS_INBOX_PREFIX",
    defaultText: "unset: `_INBOX`",
    meaning:
      "Reply inboxes of this process on NATS. Pollers and agents with a tenant's NATS user (`sonde nats-config`) must use the prefix written in their `tenant-<slug>.env`.",
    sensitive: false,
  },

  {
    name: "SONDE_SECRET",
    defaultText: "embedded: generated once into `<data dir>/secret`",
    meaning:
      "Key material for signing and encryption (at least 32 characters). Required with `DATABASE_URL`.",
    sensitive: true,
  },
  {
    name: "LOG_LEVEL",
    defaultText: "info",
    meaning: "fatal, error, warn, info, debug, trace or silent.",
    sensitive: false,
  },
  {
    name: "LOG_FORMAT",
    defaultText: "auto",
    meaning: "`json` (one object per line), `pretty`, or `auto` (pretty on a terminal, JSON otherwise).",
    sensitive: false,
  },
  {
    name: "SONDE_MIGRATE_ON_START",
    defaultText: "true",
    meaning: "Apply pending migrations when core starts.",
    sensitive: false,
  },
  {
    name: "SONDE_SHUTDOWN_TIMEOUT_MS",
    defaultText: "10000",
    meaning: "Longest time SIGTERM/SIGINT waits for in-flight work before exiting.",
    sensitive: false,
  },
  {
    name: "SONDE_BODY_LIMIT_BYTES",
    defaultText: "1048576",
    meaning: "Largest accepted HTTP request body; larger ones get 413.",
    sensitive: false,
  },
  {
    name: "SONDE_SYNC_MAX_BODY_BYTES",
    defaultText: "67108864",
    meaning:
      "Largest JSON body of `POST /api/v2/devices/sync` (413 beyond); NDJSON bodies are streamed, unbounded.",
    sensitive: false,
  },
  {
    name: "SONDE_SYNC_MAX_RECORDS",
    defaultText: "1000000",
    meaning: "Device updates read per sync request or bus message; those beyond are rejected, not processed.",
    sensitive: false,
  },
  {
    name: "SONDE_NODE_NAME",
    defaultText: "the host name",
    meaning: "Name of this instance in logs, metrics and the cluster view.",
    sensitive: false,
  },
  {
    name: "SONDE_CLUSTER_NAME",
    defaultText: "sonde",
    meaning:
      "This deployment's name on the bus: its core instances share the durable consumers and the scheduling lease under it. Two deployments on one NATS account need distinct names (and distinct tenant slugs: give each its own account).",
    sensitive: false,
  },
  {
    name: "SMTP_URL",
    defaultText: "unset: no relay (see docs/mail.md)",
    meaning:
      "Mail relay, `smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465`. Unset: embedded keeps mail at `/dev/mailbox`; PostgreSQL sends none.",
    sensitive: true,
  },
  {
    name: "SONDE_MAIL_FROM",
    defaultText: "`Sonde <sonde@localhost>`",
    meaning: "Sender of Sonde's mail: `sonde@example.com` or `Sonde <sonde@example.com>`.",
    sensitive: false,
  },
  {
    name: "SONDE_PUBLIC_URL",
    defaultText: "`http://localhost:<PORT>`",
    meaning:
      "The URL users reach Sonde at: sign-in links, the only trusted origin for browser sign-in, and `Secure` cookies when it is https.",
    sensitive: false,
  },
  {
    name: "SONDE_ADMIN_EMAIL",
    defaultText: "`admin@sonde.localhost`",
    meaning:
      "First run only: email of the super user created on an empty database (see docs/operations.md#first-run).",
    sensitive: false,
  },
  {
    name: "SONDE_ADMIN_PASSWORD",
    defaultText: "unset: generated and printed once",
    meaning: `First run only: that super user's password (${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters). Unset: a generated one is printed once to stdout, never logged.`,
    sensitive: true,
  },
  {
    name: "SONDE_ADMIN_TOKEN",
    defaultText: "unset",
    meaning: `First run only: registered (hashed) as that super user's API token, scope admin in tenant \`default\`, for automation. Starts with \`${API_TOKEN_PREFIX}\`, at least ${API_TOKEN_MIN_LENGTH} characters.`,
    sensitive: true,
  },
  {
    name: "SONDE_OIDC_ISSUER",
    defaultText: "unset: no OIDC sign-in",
    meaning:
      "OpenID Connect issuer URL (discovery at `<issuer>/.well-known/openid-configuration`); with the client id and secret it enables OIDC sign-in for existing users (docs/sign-in.md).",
    sensitive: false,
  },
  {
    name: "SONDE_OIDC_CLIENT_ID",
    defaultText: "unset",
    meaning: "Client id Sonde has at the OIDC provider; set together with the issuer and the secret.",
    sensitive: false,
  },
  {
    name: "SONDE_OIDC_CLIENT_SECRET",
    defaultText: "unset",
    meaning: "That client's secret (sent with HTTP Basic to the token endpoint).",
    sensitive: true,
  },
  {
    name: "SONDE_OIDC_SCOPES",
    defaultText: "`openid email profile`",
    meaning: "Scopes Sonde asks the OIDC provider for, space-separated; must include `openid` and `email`.",
    sensitive: false,
  },
  {
    name: "SONDE_GITHUB_CLIENT_ID",
    defaultText: "unset: no GitHub sign-in",
    meaning: "GitHub OAuth app client id; with its secret it enables GitHub sign-in for existing users.",
    sensitive: false,
  },
  {
    name: "SONDE_GITHUB_CLIENT_SECRET",
    defaultText: "unset",
    meaning: "That GitHub OAuth app's client secret.",
    sensitive: true,
  },
  {
    name: "SONDE_GOOGLE_CLIENT_ID",
    defaultText: "unset: no Google sign-in",
    meaning: "Google OAuth client id; with its secret it enables Google sign-in for existing users.",
    sensitive: false,
  },
  {
    name: "SONDE_GOOGLE_CLIENT_SECRET",
    defaultText: "unset",
    meaning: "That Google OAuth client's secret.",
    sensitive: true,
  },
  {
    name: "SONDE_CONFIG_FILE",
    defaultText: "unset",
    meaning: "Optional JSON file with any of these settings as keys; environment variables override it.",
    sensitive: false,
  },
];

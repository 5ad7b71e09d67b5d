import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { z } from "zod";
import { SondeError } from "../../lib/errors.js";
import { SIGN_IN_SETTING_GROUPS, type Settings, settingDocs, settingsSchema } from "./schema.js";

/** Validated configuration, with derived values resolved (absolute data dir, node name, secret). */
export interface Config extends Omit<Settings, "SONDE_SECRET" | "SONDE_NODE_NAME"> {
  readonly SONDE_SECRET: string;
  readonly SONDE_NODE_NAME: string;
  /** Where the secret came from; logged at start so operators know whether to back up the data dir. */
  readonly secretSource: "environment" | "data-dir";
  readonly mode: { readonly database: "embedded" | "postgres"; readonly bus: "memory" | "nats" };
}

type RawSource = Readonly<Record<string, unknown>>;

const KNOWN = new Set(settingDocs.map((d) => d.name));
const SENSITIVE = new Set(settingDocs.filter((d) => d.sensitive).map((d) => d.name));

function configError(message: string): SondeError {
  return new SondeError("SONDE_CONFIG_INVALID", message);
}

function readConfigFile(path: string): RawSource {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = err instanceof Error && "code" in err ? String(err.code) : "unreadable";
    throw configError(`SONDE_CONFIG_FILE: cannot read ${path} (${reason})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw configError(`SONDE_CONFIG_FILE: ${path} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw configError(`SONDE_CONFIG_FILE: ${path} must contain a JSON object of settings`);
  }
  for (const key of Object.keys(parsed)) {
    if (!KNOWN.has(key) || key === "SONDE_CONFIG_FILE") {
      throw configError(`SONDE_CONFIG_FILE: ${path} has unknown setting ${key}`);
    }
  }
  return parsed as RawSource;
}

function describeIssue(issue: z.core.$ZodIssue, raw: RawSource): string {
  const name = String(issue.path[0] ?? "configuration");
  const value = raw[name];
  const shown = SENSITIVE.has(name) || value === undefined ? "" : ` (got ${JSON.stringify(value)})`;
  return `${name} ${issue.message}${shown}`;
}

/** Picks only Sonde's settings from the environment; blank values count as unset. */
function fromEnv(env: NodeJS.ProcessEnv): RawSource {
  const out: Record<string, string> = {};
  for (const name of KNOWN) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") out[name] = value;
  }
  return out;
}

function readStoredSecret(dataDir: string): string | undefined {
  const path = join(dataDir, "secret");
  if (!existsSync(path)) return undefined;
  const secret = readFileSync(path, "utf8").trim();
  if (secret.length < 32) throw configError(`SONDE_SECRET: ${path} holds fewer than 32 characters`);
  return secret;
}

function loadOrCreateSecret(dataDir: string): string {
  const stored = readStoredSecret(dataDir);
  if (stored !== undefined) return stored;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  // wx: never overwrite a secret another process wrote a moment ago.
  try {
    writeFileSync(join(dataDir, "secret"), `${secret}\n`, { mode: 0o600, flag: "wx" });
  } catch {
    return loadOrCreateSecret(dataDir);
  }
  return secret;
}

export interface LoadConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * When false, an embedded secret is read from the data dir if it is there but never generated
   * (`sonde keys`: a new secret could not unwrap the stored keys). The secret is then "" when absent.
   */
  readonly createSecret?: boolean;
}

/**
 * Reads the optional config file and the environment (environment wins), validates with zod and
 * resolves derived values. Throws SONDE_CONFIG_INVALID with a one-line message naming the setting.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const envValues = fromEnv(env);
  const filePath = envValues.SONDE_CONFIG_FILE;
  const fileValues = typeof filePath === "string" ? readConfigFile(resolve(cwd, filePath)) : {};
  const { SONDE_CONFIG_FILE: _ignored, ...envSettings } = envValues;
  const raw: RawSource = { ...fileValues, ...envSettings };

  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    throw configError(first ? describeIssue(first, raw) : "configuration is invalid");
  }
  const s = result.data;
  const dataDir = isAbsolute(s.SONDE_DATA_DIR) ? s.SONDE_DATA_DIR : resolve(cwd, s.SONDE_DATA_DIR);
  const database = s.DATABASE_URL === undefined ? "embedded" : "postgres";
  if (s.DATABASE_MIGRATION_URL !== undefined && database === "embedded") {
    throw configError(
      "DATABASE_MIGRATION_URL is set but DATABASE_URL is not (the embedded database has one owner)",
    );
  }

  checkSignInGroups(s);

  let secret = s.SONDE_SECRET;
  let secretSource: Config["secretSource"] = "environment";
  if (secret === undefined) {
    if (database === "postgres") {
      throw configError("SONDE_SECRET is required when DATABASE_URL is set (at least 32 characters)");
    }
    secret = options.createSecret === false ? (readStoredSecret(dataDir) ?? "") : loadOrCreateSecret(dataDir);
    secretSource = "data-dir";
  }

  return {
    ...s,
    SONDE_DATA_DIR: dataDir,
    SONDE_SECRET: secret,
    SONDE_NODE_NAME: s.SONDE_NODE_NAME ?? hostname(),
    secretSource,
    mode: { database, bus: s.NATS_URL === undefined ? "memory" : "nats" },
  };
}

/** A sign-in method is configured completely or not at all; a half-set one names what is missing. */
function checkSignInGroups(s: Settings): void {
  for (const group of SIGN_IN_SETTING_GROUPS) {
    const missing = group.names.filter((name) => s[name] === undefined);
    if (missing.length === 0 || missing.length === group.names.length) continue;
    const set = group.names.filter((name) => s[name] !== undefined);
    throw configError(
      `${set.join(" and ")} ${set.length === 1 ? "is" : "are"} set but ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not: ${group.method} sign-in needs ${group.names.join(", ")} (or none of them)`,
    );
  }
}

/** Strips user info from a URL so it can be logged or shown in an error. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username !== "" || u.password !== "") {
      u.username = "***";
      u.password = "";
    }
    u.search = "";
    return u.toString();
  } catch {
    return "<invalid url>";
  }
}

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { SondeError } from "../../../lib/errors.js";

/** 32 random bytes, base64url: safe in URLs, env files and nats-server's quoted strings. */
export function generatePassword(): string {
  return randomBytes(32).toString("base64url");
}

const PASSWORD = /^[A-Za-z0-9_-]{16,256}$/;

/** A NATS_URL carrying the user's credentials (parseNatsUrl lifts them out again, keeping them out of logs). */
export function credentialsUrl(serverUrl: string, user: string, password: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new SondeError("SONDE_VALIDATION_FAILED", "the server URL is not a valid URL", {
      meta: { field: "server-url" },
    });
  }
  if ((url.protocol !== "nats:" && url.protocol !== "tls:") || url.username !== "") {
    throw new SondeError(
      "SONDE_VALIDATION_FAILED",
      "the server URL must be nats:// or tls:// without credentials",
      {
        meta: { field: "server-url" },
      },
    );
  }
  url.username = user;
  url.password = password;
  return url.toString().replace(/\/$/, "");
}

/** The body of a credentials file: an env file the roles read (`NATS_URL`), plus the inbox prefix. */
export function credentialsFile(opts: {
  readonly description: string;
  readonly url: string;
  readonly inboxPrefix?: string;
}): string {
  return [
    `# ${opts.description}`,
    "# Written by `sonde nats-config`; it holds a password: keep it 0600 and out of logs.",
    `NATS_URL=${opts.url}`,
    ...(opts.inboxPrefix === undefined ? [] : [`NATS_INBOX_PREFIX=${opts.inboxPrefix}`]),
    "",
  ].join("\n");
}

/** The password of an existing credentials file, so that re-running keeps clients working; else undefined. */
export function existingPassword(path: string, user: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((l) => l.startsWith("NATS_URL="));
  if (line === undefined) return undefined;
  try {
    const url = new URL(line.slice("NATS_URL=".length).trim());
    const password = decodeURIComponent(url.password);
    return decodeURIComponent(url.username) === user && PASSWORD.test(password) ? password : undefined;
  } catch {
    return undefined;
  }
}

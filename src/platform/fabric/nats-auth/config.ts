import type { NatsPermissions } from "./permissions.js";

export interface NatsUser {
  readonly user: string;
  readonly password: string;
  readonly permissions: NatsPermissions;
}

/** A double-quoted string in nats-server's configuration syntax (JSON escaping; no `$VAR` expansion). */
function quoted(value: string): string {
  return JSON.stringify(value);
}

function list(values: readonly string[]): string {
  return `[${values.map(quoted).join(", ")}]`;
}

/**
 * The `authorization { users = [...] }` block for nats-server 2.9, to `include` from the server's
 * configuration. It holds the passwords in clear (nats-server also takes bcrypt hashes, which Sonde
 * has no library for), so it is written 0600.
 */
export function renderAuthorization(users: readonly NatsUser[], header: string): string {
  const lines = [...header.split("\n").map((l) => `# ${l}`.trimEnd()), "authorization {", "  users = ["];
  for (const u of users) {
    lines.push(
      "    {",
      `      user: ${quoted(u.user)}`,
      `      password: ${quoted(u.password)}`,
      "      permissions: {",
      `        publish: { allow: ${list(u.permissions.publish)} }`,
      `        subscribe: { allow: ${list(u.permissions.subscribe)} }`,
      ...(u.permissions.allowResponses ? ["        allow_responses: true"] : []),
      "      }",
      "    }",
    );
  }
  lines.push("  ]", "}", "");
  return lines.join("\n");
}

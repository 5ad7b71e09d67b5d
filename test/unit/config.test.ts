import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isSondeError } from "../../src/lib/errors.js";
import { loadConfig, redactUrl } from "../../src/platform/config/index.js";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "sonde-config-"));
}

function failure(env: NodeJS.ProcessEnv, cwd = tmp()): string {
  try {
    loadConfig({ env, cwd });
  } catch (err) {
    if (isSondeError(err, "SONDE_CONFIG_INVALID")) return err.message;
    throw err;
  }
  throw new Error("expected the configuration to be rejected");
}

const ADMIN_TOKEN = `sonde_${"t".repeat(40)}`;

describe("configuration", () => {
  it("applies the documented defaults: embedded database, in-process bus, port 8080", () => {
    const cwd = tmp();
    const c = loadConfig({ env: {}, cwd });
    expect(c.PORT).toBe(8080);
    expect(c.SONDE_DATA_DIR).toBe(join(cwd, ".sonde"));
    expect(c.mode).toEqual({ database: "embedded", bus: "memory" });
    expect(c.LOG_LEVEL).toBe("info");
    expect(c.SONDE_MIGRATE_ON_START).toBe(true);
  });

  it("generates the embedded secret once, keeps it private in the data dir and reuses it", () => {
    const cwd = tmp();
    const first = loadConfig({ env: {}, cwd });
    expect(first.secretSource).toBe("data-dir");
    expect(first.SONDE_SECRET.length).toBeGreaterThanOrEqual(32);
    const path = join(cwd, ".sonde", "secret");
    expect(readFileSync(path, "utf8").trim()).toBe(first.SONDE_SECRET);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadConfig({ env: {}, cwd }).SONDE_SECRET).toBe(first.SONDE_SECRET);
  });

  it("names the variable and the problem in one line for a bad value", () => {
    const msg = failure({ PORT: "eighty" });
    expect(msg).toMatch(/^PORT must be a whole number \(got "eighty"\)$/);
    expect(failure({ PORT: "70000" })).toMatch(/^PORT must be between 0 and 65535/);
    expect(failure({ LOG_LEVEL: "loud" })).toMatch(/^LOG_LEVEL must be one of fatal, error/);
    expect(failure({ NATS_URL: "http://x" })).toMatch(
      /^NATS_URL must be one or more comma-separated nats:\/\/ or tls:\/\/ URLs$/,
    );
    expect(failure({ SONDE_MIGRATE_ON_START: "maybe" })).toMatch(
      /^SONDE_MIGRATE_ON_START must be true or false/,
    );
    expect(msg.includes("\n")).toBe(false);
  });

  it("takes SONDE_PUBLIC_URL as an origin and refuses one with a path", () => {
    expect(
      loadConfig({ env: { SONDE_PUBLIC_URL: "https://sonde.example.com/" }, cwd: tmp() }).SONDE_PUBLIC_URL,
    ).toBe("https://sonde.example.com");
    expect(failure({ SONDE_PUBLIC_URL: "https://sonde.example.com/app" })).toMatch(
      /^SONDE_PUBLIC_URL must be an http:\/\/ or https:\/\/ origin without a path/,
    );
    expect(failure({ SONDE_PUBLIC_URL: "ftp://x" })).toMatch(/^SONDE_PUBLIC_URL must be an http/);
  });

  it("enables a sign-in provider only with both its client id and secret, naming both when one is missing", () => {
    expect(failure({ SONDE_GITHUB_CLIENT_ID: "gh-id" })).toMatch(
      /^SONDE_GITHUB_CLIENT_ID is set but SONDE_GITHUB_CLIENT_SECRET is not: GitHub sign-in needs SONDE_GITHUB_CLIENT_ID, SONDE_GITHUB_CLIENT_SECRET/,
    );
    const secretOnly = failure({ SONDE_GOOGLE_CLIENT_SECRET: "very-secret-value" });
    expect(secretOnly).toMatch(/^SONDE_GOOGLE_CLIENT_SECRET is set but SONDE_GOOGLE_CLIENT_ID is not/);
    expect(secretOnly).not.toContain("very-secret-value");
    expect(failure({ SONDE_OIDC_ISSUER: "https://id.example.com", SONDE_OIDC_CLIENT_ID: "sonde" })).toMatch(
      /^SONDE_OIDC_ISSUER and SONDE_OIDC_CLIENT_ID are set but SONDE_OIDC_CLIENT_SECRET is not/,
    );
    const oidc = loadConfig({
      env: {
        SONDE_OIDC_ISSUER: "https://id.example.com/realms/ops/",
        SONDE_OIDC_CLIENT_ID: "sonde",
        SONDE_OIDC_CLIENT_SECRET: "s3cret",
        SONDE_GITHUB_CLIENT_ID: "gh",
        SONDE_GITHUB_CLIENT_SECRET: "gh-secret",
      },
      cwd: tmp(),
    });
    expect(oidc.SONDE_OIDC_ISSUER).toBe("https://id.example.com/realms/ops");
    expect(oidc.SONDE_OIDC_SCOPES).toBe("openid email profile");
    expect(oidc.SONDE_GOOGLE_CLIENT_ID).toBeUndefined();
  });

  it("validates the OIDC issuer and scopes", () => {
    expect(failure({ SONDE_OIDC_ISSUER: "http://id.example.com" })).toMatch(
      /^SONDE_OIDC_ISSUER must be an https:\/\/ URL without query or fragment \(http:\/\/ only on localhost\)/,
    );
    expect(failure({ SONDE_OIDC_ISSUER: "https://id.example.com/?x=1" })).toMatch(
      /^SONDE_OIDC_ISSUER must be/,
    );
    expect(failure({ SONDE_OIDC_SCOPES: "openid profile" })).toMatch(
      /^SONDE_OIDC_SCOPES must include openid and email/,
    );
    expect(failure({ SONDE_OIDC_SCOPES: 'openid email "x"' })).toMatch(
      /^SONDE_OIDC_SCOPES must be scope names/,
    );
  });

  it("requires SONDE_SECRET with DATABASE_URL", () => {
    expect(failure({ DATABASE_URL: "postgres://u:p@db:5432/sonde" })).toMatch(
      /^SONDE_SECRET is required when DATABASE_URL is set/,
    );
    const ok = loadConfig({
      env: { DATABASE_URL: "postgres://u:p@db:5432/sonde", SONDE_SECRET: "s".repeat(32) },
      cwd: tmp(),
    });
    expect(ok.mode.database).toBe("postgres");
    expect(ok.secretSource).toBe("environment");
  });

  it("never echoes sensitive values in errors", () => {
    const msg = failure({ DATABASE_URL: "mysql://admin:hunter2@db/x" });
    expect(msg).toMatch(/^DATABASE_URL must be a postgres:\/\//);
    expect(msg).not.toContain("hunter2");
    expect(failure({ SONDE_SECRET: "short-secret-value" })).not.toContain("short-secret-value");
  });

  it("reads an optional JSON config file that the environment overrides", () => {
    const cwd = tmp();
    writeFileSync(join(cwd, "sonde.json"), JSON.stringify({ PORT: 9000, LOG_LEVEL: "debug" }));
    const c = loadConfig({ env: { SONDE_CONFIG_FILE: "sonde.json", LOG_LEVEL: "warn" }, cwd });
    expect(c.PORT).toBe(9000);
    expect(c.LOG_LEVEL).toBe("warn");
  });

  it("rejects an unreadable, malformed or unknown-keyed config file", () => {
    const cwd = tmp();
    expect(failure({ SONDE_CONFIG_FILE: "missing.json" }, cwd)).toMatch(
      /^SONDE_CONFIG_FILE: cannot read .*ENOENT/,
    );
    writeFileSync(join(cwd, "bad.json"), "{ nope");
    expect(failure({ SONDE_CONFIG_FILE: "bad.json" }, cwd)).toMatch(/is not valid JSON$/);
    writeFileSync(join(cwd, "extra.json"), JSON.stringify({ PROT: 1 }));
    expect(failure({ SONDE_CONFIG_FILE: "extra.json" }, cwd)).toMatch(/has unknown setting PROT$/);
  });

  it("treats blank variables as unset", () => {
    const c = loadConfig({ env: { PORT: "", NATS_URL: "  " }, cwd: tmp() });
    expect(c.PORT).toBe(8080);
    expect(c.mode.bus).toBe("memory");
  });

  it("redacts credentials from URLs", () => {
    expect(redactUrl("postgres://admin:hunter2@db:5432/sonde?sslmode=require")).toBe(
      "postgres://***@db:5432/sonde",
    );
    expect(redactUrl("not a url")).toBe("<invalid url>");
  });

  it("rejects a bad token, a short password and a bad email, naming the variable but not the secret", () => {
    const noPrefix = `token_${"x".repeat(40)}`;
    expect(failure({ SONDE_ADMIN_TOKEN: noPrefix })).toMatch(/^SONDE_ADMIN_TOKEN must start with sonde_/);
    expect(failure({ SONDE_ADMIN_TOKEN: noPrefix })).not.toContain(noPrefix);
    expect(failure({ SONDE_ADMIN_TOKEN: "sonde_short" })).toMatch(
      /^SONDE_ADMIN_TOKEN must be at least 32 characters$/,
    );
    expect(failure({ SONDE_ADMIN_TOKEN: `sonde_${"x".repeat(30)} y` })).toMatch(
      /^SONDE_ADMIN_TOKEN may hold only/,
    );
    expect(failure({ SONDE_ADMIN_PASSWORD: "hunter2" })).toBe(
      "SONDE_ADMIN_PASSWORD must be at least 12 characters",
    );
    expect(failure({ SONDE_ADMIN_EMAIL: "admin" })).toMatch(/^SONDE_ADMIN_EMAIL must be an email address/);
  });

  it("defaults the email and accepts a good token and password", () => {
    const ok = loadConfig({
      env: {
        SONDE_ADMIN_TOKEN: ADMIN_TOKEN,
        SONDE_ADMIN_PASSWORD: "twelve chars",
        SONDE_ADMIN_EMAIL: " Root@Example.COM",
      },
      cwd: tmp(),
    });
    expect(ok.SONDE_ADMIN_EMAIL).toBe("root@example.com");
    expect(ok.SONDE_ADMIN_TOKEN).toBe(ADMIN_TOKEN);
    expect(loadConfig({ env: {}, cwd: tmp() }).SONDE_ADMIN_EMAIL).toBe("admin@sonde.localhost");
  });
});

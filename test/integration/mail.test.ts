import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { testHttpServer } from "../support/http-server.js";
import { devMailboxRoutes } from "../../src/api/routes/dev-mailbox.js";
import { isSondeError, type SondeError } from "../../src/lib/errors.js";
import { loadConfig } from "../../src/platform/config/index.js";
import { createLogger } from "../../src/platform/log/logger.js";
import {
  createDevMailboxMailer,
  createMailer,
  DevMailbox,
  type MailConfig,
  type MailSetup,
  parseSmtpUrl,
} from "../../src/platform/mail/index.js";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp-server.js";
import { waitFor } from "../support/wait.js";

const PASSWORD = "s3cret-Pass!word";
const EMBEDDED = { database: "embedded", bus: "memory" } as const;
const POSTGRES = { database: "postgres", bus: "nats" } as const;
const LINK = "http://127.0.0.1:8080/auth/magic?token=abc123def456";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A logger writing JSON lines into an array, with the production redaction rules. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    destination: { write: (s) => lines.push(s) },
  });
  return { logger, lines, text: () => lines.join("") };
}

function setup(config: Partial<MailConfig> & Pick<MailConfig, "mode">, logger = capturedLogger().logger) {
  const s = createMailer({ SONDE_MAIL_FROM: "Sonde Test <noreply@example.test>", ...config }, logger);
  cleanups.push(() => s.mailer.close());
  return s;
}

async function smtp(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<TestSmtpServer> {
  const server = await startSmtpServer(options);
  cleanups.push(() => server.close());
  return server;
}

async function rejection(p: Promise<unknown>): Promise<SondeError> {
  try {
    await p;
  } catch (err) {
    if (isSondeError(err)) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

const magicLink = {
  to: "Alice <alice@example.test>",
  subject: "Sign in to Sonde",
  text: `Sign in:\n${LINK}\n`,
  tag: "magic-link",
};

describe("SMTP mailer against a real SMTP server", () => {
  it("delivers from, to, subject, text, html and tag, authenticated with username and password", async () => {
    const server = await smtp({ users: { sonde: PASSWORD } });
    const log = capturedLogger();
    const { mailer, devMailbox } = setup(
      { SMTP_URL: `smtp://sonde:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}`, mode: POSTGRES },
      log.logger,
    );
    expect(devMailbox).toBeUndefined();
    await mailer.ping?.();
    const sent = await mailer.send({ ...magicLink, html: `<p><a href="${LINK}">Sign in</a></p>` });
    expect(sent.id).toMatch(/^<.+@.+>$/);
    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got.user).toBe("sonde");
    expect(got.envelopeFrom).toBe("noreply@example.test");
    expect(got.envelopeTo).toEqual(["alice@example.test"]);
    expect(got.headers.get("from")).toBe("Sonde Test <noreply@example.test>");
    expect(got.headers.get("to")).toBe("Alice <alice@example.test>");
    expect(got.headers.get("subject")).toBe("Sign in to Sonde");
    expect(got.headers.get("x-sonde-tag")).toBe("magic-link");
    expect(got.headers.get("message-id")).toBe(sent.id);
    expect(got.text).toBe(`Sign in:\n${LINK}`);
    expect(got.html).toBe(`<p><a href="${LINK}">Sign in</a></p>`);
    // Production logs name the mail, never its body or the relay's credentials.
    expect(log.text()).toContain("mail sent");
    expect(log.text()).not.toContain("abc123def456");
    expect(log.text()).not.toContain(PASSWORD);
  });

  it("turns a refused password into SONDE_MAIL_FAILED without the credentials in it", async () => {
    const server = await smtp({ users: { sonde: PASSWORD } });
    const wrong = "wrong-Hunter2-pass";
    const { mailer } = setup({ SMTP_URL: `smtp://sonde:${wrong}@127.0.0.1:${server.port}`, mode: POSTGRES });
    const err = await rejection(mailer.send(magicLink));
    expect(err.code).toBe("SONDE_MAIL_FAILED");
    expect(err.httpStatus).toBe(502);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(
      `cannot send mail through smtp://***@127.0.0.1:${server.port}: the relay refused the credentials (SMTP 535)`,
    );
    expect(err.meta).toEqual({ reason: "EAUTH", smtpStatus: 535, permanent: true });
    const everything = `${err.message} ${JSON.stringify(err)} ${String(err.cause)} ${err.stack ?? ""}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`\0sonde\0${wrong}`).toString("base64"));
    expect(server.received).toHaveLength(0);
    const ping = await rejection(mailer.ping?.() ?? Promise.resolve());
    expect(ping.code).toBe("SONDE_MAIL_FAILED");
    expect(ping.message).not.toContain(wrong);
  });

  it("reports an unreachable relay as a retryable SONDE_MAIL_FAILED", async () => {
    const port = await freePort();
    const { mailer } = setup({ SMTP_URL: `smtp://127.0.0.1:${port}`, mode: POSTGRES });
    const err = await rejection(mailer.ping?.() ?? Promise.resolve());
    expect(err.code).toBe("SONDE_MAIL_FAILED");
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`cannot reach the mail relay through smtp://127.0.0.1:${port}`);
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.meta).toMatchObject({ permanent: false });
  });

  it("upgrades with STARTTLS, and refuses a self-signed relay unless SMTP_URL allows it", async () => {
    const server = await smtp({ starttls: true });
    const strict = setup({ SMTP_URL: `smtp://127.0.0.1:${server.port}`, mode: POSTGRES });
    const err = await rejection(strict.mailer.send(magicLink));
    expect(err.code).toBe("SONDE_MAIL_FAILED");
    expect(err.meta).toMatchObject({ reason: "ETLS" });
    expect(err.message).toContain("the relay's TLS certificate was refused");
    const relaxed = setup({
      SMTP_URL: `smtp://127.0.0.1:${server.port}?requireTLS=true&tls.rejectUnauthorized=false`,
      mode: POSTGRES,
    });
    await relaxed.mailer.send(magicLink);
    expect(server.received.map((m) => m.secure)).toEqual([true]);
  });

  it("lets sends in flight finish on close, then closes the pooled connections and refuses new mail", async () => {
    const server = await smtp();
    const { mailer } = setup({ SMTP_URL: `smtp://127.0.0.1:${server.port}`, mode: POSTGRES });
    await mailer.send(magicLink);
    expect(server.openConnections()).toBe(1); // pooled: kept for the next mail
    const inFlight = mailer.send({ ...magicLink, subject: "second" });
    await mailer.close();
    await expect(inFlight).resolves.toMatchObject({ id: expect.any(String) });
    expect(server.received.map((m) => m.headers.get("subject"))).toEqual(["Sign in to Sonde", "second"]);
    await waitFor(() => server.openConnections() === 0, 5_000, "the pool to close its connections");
    expect((await rejection(mailer.send(magicLink))).code).toBe("SONDE_SHUTTING_DOWN");
  });

  it("validates mail before it reaches the relay, as the dev mailbox does", async () => {
    const server = await smtp();
    const { mailer } = setup({ SMTP_URL: `smtp://127.0.0.1:${server.port}`, mode: POSTGRES });
    const dev = setup({ mode: EMBEDDED }).mailer;
    for (const m of [mailer, dev]) {
      const two = await rejection(m.send({ ...magicLink, to: "a@example.test, b@example.test" }));
      expect(two).toMatchObject({ code: "SONDE_VALIDATION_FAILED", meta: { field: "to" } });
      const injected = await rejection(m.send({ ...magicLink, subject: "Hi\r\nBcc: eve@example.test" }));
      expect(injected).toMatchObject({ code: "SONDE_VALIDATION_FAILED", meta: { field: "subject" } });
      const tag = await rejection(m.send({ ...magicLink, tag: "Magic Link" }));
      expect(tag).toMatchObject({ code: "SONDE_VALIDATION_FAILED", meta: { field: "tag" } });
    }
    expect(server.received).toHaveLength(0);
  });
});

describe("dev mailbox", () => {
  it("keeps mails newest first and logs them in full in the embedded mode", async () => {
    const log = capturedLogger();
    const { mailer, devMailbox } = setup({ mode: EMBEDDED }, log.logger);
    expect(devMailbox).toBeInstanceOf(DevMailbox);
    expect(mailer.ping).toBeUndefined();
    const first = await mailer.send(magicLink);
    await mailer.send({ to: "bob@example.test", subject: "Invitation", text: "Join us", tag: "invitation" });
    const mails = devMailbox!.list();
    expect(mails.map((m) => m.subject)).toEqual(["Invitation", "Sign in to Sonde"]);
    expect(mails[1]).toMatchObject({
      id: first.id,
      from: "Sonde Test <noreply@example.test>",
      tag: "magic-link",
    });
    expect(devMailbox!.list({ to: "ALICE@example.test" }).map((m) => m.id)).toEqual([first.id]);
    expect(devMailbox!.list({ tag: "invitation" }).map((m) => m.to)).toEqual(["bob@example.test"]);
    expect(log.text()).toContain(LINK);
  });

  it("caps what it keeps at its capacity, dropping the oldest", async () => {
    const mailbox = new DevMailbox(3);
    const mailer = createDevMailboxMailer({
      from: { address: "sonde@localhost" },
      logger: capturedLogger().logger,
      mailbox,
    });
    for (let i = 1; i <= 5; i++) await mailer.send({ to: "a@example.test", subject: `mail ${i}`, text: "x" });
    expect(mailbox.list().map((m) => m.subject)).toEqual(["mail 5", "mail 4", "mail 3"]);
  });

  it("with PostgreSQL and no SMTP_URL, delivers nothing and logs no body, with one warning at start", async () => {
    const log = capturedLogger();
    const { mailer, devMailbox } = setup({ mode: POSTGRES }, log.logger);
    expect(devMailbox).toBeUndefined();
    expect(log.text()).toContain(
      "SMTP_URL is not set: mail (sign-in links, invitations, password resets) is NOT delivered",
    );
    await expect(mailer.send(magicLink)).resolves.toMatchObject({ id: expect.any(String) });
    const line = JSON.parse(log.lines.at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 40,
      to: magicLink.to,
      subject: magicLink.subject,
      tag: "magic-link",
    });
    expect(log.text()).not.toContain("abc123def456");
  });
});

describe("/dev/mailbox routes", () => {
  async function http(s: MailSetup): Promise<FastifyInstance> {
    // The wiring the roles use: register the routes exactly when createMailer returns a mailbox.
    const mailbox = s.devMailbox;
    const app = await testHttpServer({
      logger: capturedLogger().logger,
      bodyLimitBytes: 1024,
      routes:
        mailbox === undefined ? [] : [async (a) => void (await a.register(devMailboxRoutes, { mailbox }))],
    });
    cleanups.push(() => app.close());
    return app;
  }

  it("serves the mails as escaped HTML and as JSON in the embedded mode without SMTP", async () => {
    const s = setup({ mode: EMBEDDED });
    await s.mailer.send({ ...magicLink, subject: "<script>alert('x')</script>", html: "<b>hi</b>" });
    await s.mailer.send({ to: "bob@example.test", subject: "Other", text: `see ${LINK}&x="><img src=y>` });
    const app = await http(s);
    const page = await app.inject({ url: "/dev/mailbox" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(page.body).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect(page.body).not.toContain("<script>");
    expect(page.body).not.toContain("<img");
    expect(page.body).not.toContain("<b>hi</b>");
    expect(page.body).toContain("Alice &lt;alice@example.test&gt;");
    expect(page.body).toContain(`<a href="${LINK}">${LINK}</a>`);
    expect(page.body).toContain(`<a href="${LINK}&amp;x=">`);
    expect(page.body.indexOf("Other")).toBeLessThan(page.body.indexOf("alert"));

    const json = await app.inject({ url: "/dev/mailbox.json?to=alice@example.test" });
    expect(json.statusCode).toBe(200);
    expect(json.headers["cache-control"]).toBe("no-store");
    const body = json.json<{ mails: Array<Record<string, unknown>> }>();
    expect(body.mails).toHaveLength(1);
    expect(body.mails[0]).toMatchObject({
      to: magicLink.to,
      subject: "<script>alert('x')</script>",
      text: magicLink.text,
      html: "<b>hi</b>",
      tag: "magic-link",
    });
  });

  it("answers only clients on this machine", async () => {
    const app = await http(setup({ mode: EMBEDDED }));
    const remote = await app.inject({ url: "/dev/mailbox.json", remoteAddress: "192.0.2.7" });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toMatchObject({ errors: [{ code: "SONDE_FORBIDDEN" }] });
    expect((await app.inject({ url: "/dev/mailbox", remoteAddress: "::1" })).statusCode).toBe(200);
  });

  it("does not exist with SMTP_URL set or with PostgreSQL", async () => {
    const server = await smtp();
    for (const s of [
      setup({ mode: EMBEDDED, SMTP_URL: `smtp://127.0.0.1:${server.port}` }),
      setup({ mode: POSTGRES }),
    ]) {
      expect(s.devMailbox).toBeUndefined();
      const app = await http(s);
      for (const url of ["/dev/mailbox", "/dev/mailbox.json"]) {
        const res = await app.inject({ url });
        expect(res.statusCode).toBe(404);
        expect(res.json()).toMatchObject({ errors: [{ code: "SONDE_ROUTE_NOT_FOUND" }] });
      }
    }
  });
});

describe("mail settings", () => {
  const cwd = mkdtempSync(join(tmpdir(), "sonde-mail-config-"));
  function failure(env: NodeJS.ProcessEnv): string {
    try {
      loadConfig({ env, cwd, createSecret: false });
    } catch (err) {
      if (isSondeError(err, "SONDE_CONFIG_INVALID")) return err.message;
      throw err;
    }
    throw new Error("expected the configuration to be rejected");
  }

  it("defaults to no relay and a localhost sender, and accepts a relay URL", () => {
    const c = loadConfig({ env: {}, cwd, createSecret: false });
    expect(c.SMTP_URL).toBeUndefined();
    expect(c.SONDE_MAIL_FROM).toBe("Sonde <sonde@localhost>");
    const set = loadConfig({
      env: { SMTP_URL: "smtps://u:p@mail.example.test", SONDE_MAIL_FROM: "ops@example.test" },
      cwd,
      createSecret: false,
    });
    expect(set.SMTP_URL).toBe("smtps://u:p@mail.example.test");
    expect(set.SONDE_MAIL_FROM).toBe("ops@example.test");
  });

  it("names the variable and never echoes the relay URL, which holds credentials", () => {
    expect(failure({ SMTP_URL: "http://user:hunter2@mail.example.test" })).toBe(
      "SMTP_URL must be an smtp:// or smtps:// URL",
    );
    const param = failure({ SMTP_URL: "smtp://user:hunter2@mail.example.test?debug=true" });
    expect(param).toBe(
      "SMTP_URL has an unknown parameter debug (allowed: requireTLS, ignoreTLS, tls.rejectUnauthorized, name)",
    );
    expect(failure({ SMTP_URL: "smtp://mail.example.test?requireTLS=yes" })).toBe(
      "SMTP_URL parameter requireTLS must be true or false",
    );
    expect(failure({ SONDE_MAIL_FROM: "Sonde, Inc <a@example.test>" })).toBe(
      'SONDE_MAIL_FROM must be one address, such as sonde@example.com or Sonde <sonde@example.com> (got "Sonde, Inc <a@example.test>")',
    );
  });

  it("reads ports, TLS mode and percent-encoded credentials from the URL", () => {
    const plain = parseSmtpUrl("smtp://relay.example.test");
    expect(plain).toMatchObject({ ok: true, target: { port: 587, secure: false, auth: undefined } });
    const tls = parseSmtpUrl("smtps://me%40example.test:p%40ss%3Aword@[::1]?name=sonde.example.test");
    expect(tls).toMatchObject({
      ok: true,
      target: {
        host: "::1",
        port: 465,
        secure: true,
        auth: { user: "me@example.test", pass: "p@ss:word" },
        name: "sonde.example.test",
        display: "smtps://***@[::1]:465",
      },
    });
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

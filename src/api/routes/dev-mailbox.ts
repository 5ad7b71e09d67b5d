import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { SondeError } from "../../lib/errors.js";
import type { DevMailbox, StoredMail } from "../../platform/mail/index.js";

export interface DevMailboxRoutesOptions {
  /** The dev mailbox `createMailer` returns; register this plugin only when it returns one. */
  readonly mailbox: DevMailbox;
}

interface MailboxQuery {
  readonly to?: string;
  readonly tag?: string;
}

const querySchema = {
  type: "object",
  properties: { to: { type: "string", maxLength: 320 }, tag: { type: "string", maxLength: 64 } },
} as const;

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Every value on the page comes from mail content, which may carry user input (names, tenants). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Escaped text with http(s) links made clickable: the point of the page is to follow sign-in links. */
function linkify(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const url = escapeHtml(match[0]);
    out += `${escapeHtml(text.slice(last, match.index))}<a href="${url}">${url}</a>`;
    last = match.index + match[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

function renderMail(m: StoredMail): string {
  const field = (label: string, value: string) => `<dt>${label}</dt><dd>${escapeHtml(value)}</dd>`;
  // The HTML part is shown as source, not rendered: rendering would run mail markup on this origin.
  const html =
    m.html === undefined
      ? ""
      : `<details><summary>HTML part (source)</summary><pre>${escapeHtml(m.html)}</pre></details>`;
  return `<article><h2>${escapeHtml(m.subject)}</h2><dl>${field("To", m.to)}${field("From", m.from)}${
    m.tag === undefined ? "" : field("Tag", m.tag)
  }${field("Sent", m.at)}</dl><pre>${linkify(m.text)}</pre>${html}</article>`;
}

function renderPage(mailbox: DevMailbox, mails: readonly StoredMail[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sonde dev mailbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
article{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}h2{font-size:1.1rem}
dl{display:grid;grid-template-columns:4rem 1fr;margin:0}dt{color:#57606a}dd{margin:0}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.5rem;border-radius:4px}</style></head>
<body><h1>Dev mailbox</h1>
<p>SMTP_URL is not set, so mail stays here: the last ${mailbox.capacity}, newest first, in memory only.
<a href="/dev/mailbox.json">JSON</a> (filters: <code>?to=</code>, <code>?tag=</code>).</p>
${mails.length === 0 ? "<p>No mail yet.</p>" : mails.map(renderMail).join("\n")}
</body></html>`;
}

function isLoopback(address: string): boolean {
  return address === "::1" || /^(?:::ffff:)?127\./.test(address);
}

function privateHeaders(reply: FastifyReply): FastifyReply {
  // The page holds live sign-in links: never cache it, frame it, or let a browser sniff it.
  return reply.headers({
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
  });
}

/**
 * `/dev/mailbox` (HTML) and `/dev/mailbox.json`: the mails the dev mailbox kept, to loopback clients
 * only. Register only in the embedded mode without SMTP; anywhere else the routes must not exist.
 */
export const devMailboxRoutes: FastifyPluginAsync<DevMailboxRoutesOptions> = async (app, opts) => {
  const { mailbox } = opts;
  // Fail at start-up, not at the first request, when wired without its dependency.
  if (mailbox === undefined) throw new SondeError("SONDE_INTERNAL", "devMailboxRoutes needs { mailbox }");

  // The embedded mode may still listen on 0.0.0.0 (HOST); sign-in links must not be readable by
  // whoever reaches the port, so only this machine is answered.
  app.addHook("onRequest", async (request) => {
    if (!isLoopback(request.socket.remoteAddress ?? "")) {
      throw new SondeError("SONDE_FORBIDDEN", "the dev mailbox is served to clients on this machine only");
    }
  });

  app.get<{ Querystring: MailboxQuery }>(
    "/dev/mailbox.json",
    { schema: { querystring: querySchema } },
    async (request, reply) => {
      const mails = mailbox
        .list(request.query)
        .map((m) => ({ ...m, html: m.html ?? null, tag: m.tag ?? null }));
      return privateHeaders(reply).send({ mails });
    },
  );

  app.get<{ Querystring: MailboxQuery }>(
    "/dev/mailbox",
    { schema: { querystring: querySchema } },
    async (request, reply) =>
      privateHeaders(reply)
        .type("text/html; charset=utf-8")
        .send(renderPage(mailbox, mailbox.list(request.query))),
  );
};

import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/**
 * A real SMTP peer on 127.0.0.1 (the maintained `smtp-server` package), so mail tests cross a real
 * socket, real AUTH and, optionally, real STARTTLS with the package's built-in self-signed
 * certificate. Messages are parsed just enough to read what Sonde sends: single or
 * multipart/alternative bodies in 7bit, quoted-printable or base64.
 */
export interface ReceivedMail {
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  /** The user the session authenticated as, if any. */
  readonly user: string | undefined;
  /** Whether the session ran over TLS (STARTTLS). */
  readonly secure: boolean;
  /** Header names in lower case, folded lines joined. */
  readonly headers: ReadonlyMap<string, string>;
  readonly text: string | undefined;
  readonly html: string | undefined;
  readonly raw: string;
}

export interface TestSmtpServer {
  readonly port: number;
  readonly received: ReceivedMail[];
  /** Sessions currently open (a pooled client keeps some open until it is closed). */
  openConnections(): number;
  close(): Promise<void>;
}

export interface TestSmtpServerOptions {
  /** user → password; when given, AUTH is required. */
  readonly users?: Readonly<Record<string, string>>;
  /** Offer STARTTLS (self-signed certificate); off by default. */
  readonly starttls?: boolean;
}

interface Part {
  readonly headers: Map<string, string>;
  readonly body: string;
}

function splitPart(raw: string): Part {
  const at = raw.indexOf("\r\n\r\n");
  const head = at === -1 ? raw : raw.slice(0, at);
  const body = at === -1 ? "" : raw.slice(at + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(part: Part): string {
  const cte = (part.headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  let decoded = part.body;
  if (cte === "base64") decoded = Buffer.from(part.body, "base64").toString("utf8");
  if (cte === "quoted-printable") {
    const bytes = part.body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => `%${h}`);
    decoded = decodeURIComponent(bytes);
  }
  // The trailing line break belongs to the MIME framing as much as to the text.
  return decoded.replace(/\r\n/g, "\n").replace(/\n+$/, "");
}

/** Walks the MIME tree and returns the text/plain and text/html bodies. */
function bodies(part: Part, out: { text?: string; html?: string }): void {
  const type = part.headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith("multipart/") && boundary !== undefined) {
    const pieces = part.body.split(`--${boundary}`).slice(1, -1);
    for (const piece of pieces) bodies(splitPart(piece.replace(/^\r\n/, "")), out);
    return;
  }
  if (type.toLowerCase().startsWith("text/html")) out.html = decodeBody(part);
  else out.text = decodeBody(part);
}

export async function startSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const users = options.users;
  const disabled = [...(options.starttls === true ? [] : ["STARTTLS"]), ...(users ? [] : ["AUTH"])];
  const server = new SMTPServer({
    logger: false,
    authOptional: users === undefined,
    allowInsecureAuth: true,
    disabledCommands: disabled,
    closeTimeout: 2_000,
    onAuth(auth, _session, callback) {
      if (users !== undefined && auth.username !== undefined && users[auth.username] === auth.password) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const top = splitPart(raw);
        const found: { text?: string; html?: string } = {};
        bodies(top, found);
        const from = session.envelope.mailFrom;
        received.push({
          envelopeFrom: from === false ? "" : from.address,
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === "string" ? session.user : undefined,
          secure: session.secure,
          headers: top.headers,
          text: found.text,
          html: found.html,
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    received,
    openConnections: () => server.connections.size,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

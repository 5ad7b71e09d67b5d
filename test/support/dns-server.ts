import { createSocket, type Socket } from "node:dgram";

/**
 * A tiny authoritative DNS server on a UDP loopback port: answers A queries for the names it is
 * given, NXDOMAIN for everything else. Enough for the DNS probe's tests; not a resolver.
 */
export interface TestDnsServer {
  /** `127.0.0.1:<port>`, as the probe's `server` option takes it. */
  readonly address: string;
  /** Queries received, as `name/type`. */
  readonly queries: string[];
  close(): Promise<void>;
}

export async function startDnsServer(
  records: Readonly<Record<string, readonly string[]>>,
): Promise<TestDnsServer> {
  const socket: Socket = createSocket("udp4");
  const queries: string[] = [];
  socket.on("message", (msg, rinfo) => {
    const question = readQuestion(msg);
    if (question === undefined) return;
    queries.push(`${question.name}/${question.type}`);
    const addresses = question.type === 1 ? (records[question.name.toLowerCase()] ?? []) : [];
    const known = records[question.name.toLowerCase()] !== undefined;
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2); // QR AA RD, rcode
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(60, 6); // TTL
      rr.writeUInt16BE(4, 10);
      ip.split(".").forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
      return rr;
    });
    socket.send(
      Buffer.concat([header, msg.subarray(12, question.end), ...answers]),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function readQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 17) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length) {
    const len = msg.readUInt8(at);
    at++;
    if (len === 0) break;
    labels.push(msg.toString("ascii", at, at + len));
    at += len;
  }
  if (at + 4 > msg.length) return undefined;
  return { name: labels.join("."), type: msg.readUInt16BE(at), end: at + 4 };
}

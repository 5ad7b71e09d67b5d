import { isIP } from "node:net";

/** An address as a number, to order addresses of one family (IPv6 needs 128 bits). */
export function ipToBigInt(ip: string): bigint {
  if (isIP(ip) === 4) {
    return ip.split(".").reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
  }
  let [head = "", tail] = ip.split("::");
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(tail ?? head)?.[1];
  if (v4 !== undefined) {
    const n = ipToBigInt(v4);
    const hex = `${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;
    if (tail !== undefined) tail = tail.replace(v4, hex);
    else head = head.replace(v4, hex);
  }
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...right];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** `10.0.0.0/8`, `fd00::/8`: a valid network (the address may have host bits; PostgreSQL's `<<=` allows it). */
export function parseCidr(text: string): { address: string; prefix: number } | undefined {
  const slash = text.indexOf("/");
  if (slash === -1) return undefined;
  const address = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  return prefix <= (family === 4 ? 32 : 128) ? { address, prefix } : undefined;
}

/** `10.0.0.10-10.0.0.50`: two addresses of one family, the first not after the second. */
export function parseIpRange(text: string): { from: string; to: string } | "reversed" | undefined {
  const dash = text.indexOf("-");
  if (dash === -1) return undefined;
  const from = text.slice(0, dash);
  const to = text.slice(dash + 1);
  const family = isIP(from);
  if (family === 0 || isIP(to) !== family) return undefined;
  return ipToBigInt(from) <= ipToBigInt(to) ? { from, to } : "reversed";
}

export { isIP };

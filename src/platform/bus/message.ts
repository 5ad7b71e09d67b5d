import { SondeError } from "../../lib/errors.js";
import type { BusMessage, Headers, KvEntry, Payload } from "./types.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** NATS header names are MIME-style tokens; values cannot span lines. */
const HEADER_NAME = /^[!-9;-~]+$/;

export function toBytes(data: Payload): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}

export function decodeJson<T>(data: Uint8Array, where: string): T {
  try {
    return JSON.parse(decoder.decode(data)) as T;
  } catch (err) {
    throw new SondeError("SONDE_BAD_REQUEST", `payload of ${where} is not valid JSON`, {
      meta: { where },
      cause: err,
    });
  }
}

export function assertHeaders(headers: Headers | undefined): void {
  if (headers === undefined) return;
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name) || /[\r\n]/.test(value)) {
      throw new SondeError("SONDE_BAD_REQUEST", `invalid message header "${name}"`, {
        meta: { header: name },
      });
    }
  }
}

export class Message implements BusMessage {
  constructor(
    readonly subject: string,
    readonly data: Uint8Array,
    readonly headers: Headers | undefined,
  ) {}

  text(): string {
    return decodeText(this.data);
  }

  json<T = unknown>(): T {
    return decodeJson<T>(this.data, `message on ${this.subject}`);
  }
}

export class Entry implements KvEntry {
  constructor(
    readonly key: string,
    readonly value: Uint8Array,
    readonly revision: number,
    readonly operation: "PUT" | "DEL",
    readonly updatedAt: Date,
  ) {}

  text(): string {
    return decodeText(this.value);
  }

  json<T = unknown>(): T {
    return decodeJson<T>(this.value, `key ${this.key}`);
  }
}

import { type Msg, type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import { SondeError } from "../../lib/errors.js";
import { assertHeaders, Message, toBytes } from "./message.js";
import { fromNats } from "./nats-errors.js";
import type { Headers, InboundMessage, Payload } from "./types.js";

export function toNatsHeaders(h: Headers | undefined): MsgHdrs | undefined {
  if (h === undefined) return undefined;
  const entries = Object.entries(h);
  if (entries.length === 0) return undefined;
  const out = natsHeaders();
  for (const [k, v] of entries) out.set(k, v);
  return out;
}

/** NATS allows repeated header names; Sonde's headers are single-valued, so the first value wins. */
export function fromNatsHeaders(h: MsgHdrs | undefined): Headers | undefined {
  if (h === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, values] of h) {
    const first = values[0];
    if (first !== undefined) out[k] = first;
  }
  return Object.freeze(out);
}

export class NatsInbound extends Message implements InboundMessage {
  readonly replyTo: string | undefined;

  constructor(
    private readonly msg: Msg,
    private readonly assertOpen: () => void,
  ) {
    super(msg.subject, msg.data, fromNatsHeaders(msg.headers));
    this.replyTo = msg.reply === undefined || msg.reply === "" ? undefined : msg.reply;
  }

  respond(data: Payload, opts?: { headers?: Headers }): void {
    if (this.replyTo === undefined) {
      throw new SondeError(
        "SONDE_INTERNAL",
        `cannot respond to a message on ${this.subject}: it has no reply subject`,
      );
    }
    this.assertOpen();
    assertHeaders(opts?.headers);
    try {
      this.msg.respond(toBytes(data), { headers: toNatsHeaders(opts?.headers) });
    } catch (err) {
      throw fromNats(err, `responding on ${this.subject}`, { subject: this.subject });
    }
  }
}

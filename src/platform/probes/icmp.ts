import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { elapsedNs, errorText, type IcmpCheck, type Probe, type ProbeResult } from "./types.js";

/**
 * ICMP echo through the system's `fping` or `ping`: Node has no raw sockets without a native addon.
 * The binary is found once per probe (the first candidate that is an executable file, names looked
 * up on PATH) and run with an argument array, never through a shell. When none is found, or the one
 * found cannot send (no CAP_NET_RAW, no ping group), every check reports `ICMP unavailable: …`.
 */
export interface IcmpProbeOptions {
  /** Names (looked up on PATH) or absolute paths, in order of preference. */
  readonly candidates?: readonly string[];
}

const DEFAULT_CANDIDATES = ["fping", "ping"] as const;

interface Pinger {
  readonly path: string;
  readonly flavour: "fping" | "ping";
}

export interface Parsed {
  readonly sent: number;
  readonly received: number;
  readonly avgMs: number | undefined;
}

export function createIcmpProbe(options: IcmpProbeOptions = {}): Probe<IcmpCheck> {
  const candidates = options.candidates ?? DEFAULT_CANDIDATES;
  let detected: Promise<Pinger | undefined> | undefined;
  return async (check, context) => {
    const start = process.hrtime.bigint();
    detected ??= detect(candidates);
    const pinger = await detected;
    const unavailable = (why: string): ProbeResult => {
      const error = `ICMP unavailable: ${why}`;
      const responseTimeNs = elapsedNs(start);
      return {
        available: false,
        responseTimeNs,
        message: {
          host: check.host,
          response_time: responseTimeNs,
          packet_loss: 100,
          available: false,
          error,
        },
        error,
      };
    };
    if (pinger === undefined) return unavailable(`none of ${candidates.join(", ")} found`);
    const { output, failure } = await run(pinger, check, context.signal);
    if (context.aborted) {
      const error = context.reason ?? "aborted";
      const responseTimeNs = elapsedNs(start);
      return {
        available: false,
        responseTimeNs,
        message: {
          host: check.host,
          response_time: responseTimeNs,
          packet_loss: 100,
          available: false,
          error,
        },
        error,
      };
    }
    const parsed = parsePingOutput(pinger.flavour, output);
    if (parsed === undefined) {
      const firstLine = output.trim().split("\n")[0] ?? "";
      return unavailable(`${pinger.path}: ${firstLine || failure || "no output"}`);
    }
    const packetLoss = parsed.sent === 0 ? 100 : ((parsed.sent - parsed.received) / parsed.sent) * 100;
    const available = parsed.received > 0;
    const responseTimeNs =
      parsed.avgMs === undefined ? elapsedNs(start) : Math.round(parsed.avgMs * 1_000_000);
    const error = available ? undefined : "no echo reply";
    return {
      available,
      responseTimeNs,
      message: {
        host: check.host,
        response_time: responseTimeNs,
        packet_loss: packetLoss,
        available,
        ...(error === undefined ? {} : { error }),
      },
      ...(error === undefined ? {} : { error }),
    };
  };
}

async function detect(candidates: readonly string[]): Promise<Pinger | undefined> {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const candidate of candidates) {
    const paths = isAbsolute(candidate) ? [candidate] : dirs.map((d) => join(d, candidate));
    for (const path of paths) {
      try {
        await access(path, constants.X_OK);
        return { path, flavour: candidate.endsWith("fping") ? "fping" : "ping" };
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function args(pinger: Pinger, check: IcmpCheck): string[] {
  const count = String(check.count);
  if (pinger.flavour === "fping") return ["-c", count, "-q", "-p", "200", check.host];
  // -i 0.2 is the smallest interval an unprivileged iputils ping allows; -W bounds each reply wait.
  return ["-n", "-c", count, "-i", "0.2", "-W", "1", check.host];
}

function run(
  pinger: Pinger,
  check: IcmpCheck,
  signal: AbortSignal,
): Promise<{ output: string; failure: string | undefined }> {
  return new Promise((resolve) => {
    execFile(pinger.path, args(pinger, check), { signal, timeout: 60_000 }, (err, stdout, stderr) => {
      // Both print their summary even when hosts do not answer (exit status 1).
      resolve({ output: `${stdout}\n${stderr}`, failure: err === null ? undefined : errorText(err) });
    });
  });
}

/** Reads the summary fping or ping prints; undefined when there is none (the binary could not send). */
export function parsePingOutput(flavour: "fping" | "ping", output: string): Parsed | undefined {
  if (flavour === "fping") {
    // "127.0.0.1 : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.03/0.04/0.05"
    const m = /xmt\/rcv\/%loss = (\d+)\/(\d+)\/[\d.]+%(?:, min\/avg\/max = [\d.]+\/([\d.]+)\/)?/.exec(output);
    if (m === null) return undefined;
    return {
      sent: Number(m[1]),
      received: Number(m[2]),
      avgMs: m[3] === undefined ? undefined : Number(m[3]),
    };
  }
  // iputils and busybox: "3 packets transmitted, 3 received, 0% packet loss" and
  // "rtt min/avg/max/mdev = 0.031/0.040/0.052/0.008 ms" (busybox: "round-trip min/avg/max = …").
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  if (counts === null) return undefined;
  const rtt = /min\/avg\/max(?:\/mdev)? = [\d.]+\/([\d.]+)\//.exec(output);
  return {
    sent: Number(counts[1]),
    received: Number(counts[2]),
    avgMs: rtt?.[1] === undefined ? undefined : Number(rtt[1]),
  };
}

import { Resolver } from "node:dns/promises";
import { assertNever } from "../../lib/errors.js";
import type { CheckContext } from "./context.js";
import { type DnsCheck, elapsedNs, errorText, type ProbeResult } from "./types.js";

/**
 * DNS: resolves `name` as `recordType` (through `server` when given) and is available when there is
 * at least one answer and, if `expect` is set, one answer equals it. Answers are reported as strings
 * (MX as `priority exchange`, TXT chunks joined) so that `expect` compares like for like.
 */
export async function dnsProbe(check: DnsCheck, context: CheckContext): Promise<ProbeResult> {
  const start = process.hrtime.bigint();
  const resolver = new Resolver({ tries: 1 });
  const base = {
    name: check.name,
    type: check.recordType,
    ...(check.server ? { server: check.server } : {}),
  };
  const onAbort = () => resolver.cancel();
  context.onAbort(onAbort);
  try {
    if (check.server !== undefined) resolver.setServers([check.server]);
    const answers = await resolve(resolver, check);
    const matched = check.expect === undefined || answers.includes(check.expect);
    const available = answers.length > 0 && matched;
    const error = available
      ? undefined
      : answers.length === 0
        ? "no answers"
        : `no answer equals ${JSON.stringify(check.expect)}`;
    const responseTimeNs = elapsedNs(start);
    return {
      available,
      responseTimeNs,
      message: { ...base, answers, response_time: responseTimeNs, available, ...(error ? { error } : {}) },
      ...(error === undefined ? {} : { error }),
    };
  } catch (err) {
    const error = context.aborted ? (context.reason ?? "aborted") : errorText(err);
    const responseTimeNs = elapsedNs(start);
    return {
      available: false,
      responseTimeNs,
      message: { ...base, answers: [], response_time: responseTimeNs, available: false, error },
      error,
    };
  } finally {
    context.onAbort(undefined);
  }
}

async function resolve(resolver: Resolver, check: DnsCheck): Promise<string[]> {
  switch (check.recordType) {
    case "A":
      return resolver.resolve4(check.name);
    case "AAAA":
      return resolver.resolve6(check.name);
    case "CNAME":
      return resolver.resolveCname(check.name);
    case "NS":
      return resolver.resolveNs(check.name);
    case "MX":
      return (await resolver.resolveMx(check.name)).map((mx) => `${mx.priority} ${mx.exchange}`);
    case "TXT":
      return (await resolver.resolveTxt(check.name)).map((chunks) => chunks.join(""));
    default:
      return assertNever(check.recordType, "DNS record type");
  }
}

import { SondeError } from "../../lib/errors.js";

/**
 * Subject rules shared by both adapters, so that a subject the in-process bus accepts is one NATS
 * accepts too, and tenant-scoped subjects cannot be forged by a tenant slug containing a dot or
 * a wildcard.
 */

/** Tenant slugs and areas become a single subject token; this keeps them from adding tokens or wildcards. */
const SLUG_TOKEN = /^[a-z0-9_-]+$/;
/** NATS forbids whitespace in tokens; `.` separates them and `*`/`>` are wildcards. */
const LITERAL_TOKEN = /^[^\s.*>]+$/;
/** Stream, durable and bucket names end up in JetStream API subjects and file names. */
const NAME = /^[A-Za-z0-9_-]+$/;
/** Queue group names travel in the SUB protocol line, separated by spaces. */
const QUEUE = /^[A-Za-z0-9_.:-]+$/;
/** The NATS KV key alphabet (nats.js validateKey). */
const KV_KEY_TOKEN = /^[-/=\w]+$/;

export const SUBJECT_ROOT = "sonde";

function invalid(message: string, meta: Record<string, string>): SondeError {
  return new SondeError("SONDE_BUS_INVALID_SUBJECT", message, { meta });
}

function tokensValid(subject: string, wildcards: boolean, token: RegExp): boolean {
  if (subject.length === 0) return false;
  const tokens = subject.split(".");
  return tokens.every((t, i) => {
    if (wildcards && t === "*") return true;
    if (wildcards && t === ">") return i === tokens.length - 1;
    return token.test(t);
  });
}

export function isValidSubject(subject: string, opts: { wildcards: boolean }): boolean {
  return tokensValid(subject, opts.wildcards, LITERAL_TOKEN);
}

/** A subject to publish to: no wildcards, no empty tokens, no whitespace. */
export function assertPublishSubject(subject: string): void {
  if (!isValidSubject(subject, { wildcards: false })) {
    throw invalid(
      `invalid subject "${subject}": publish subjects need non-empty tokens without wildcards or whitespace`,
      {
        subject,
      },
    );
  }
}

/** A subject to subscribe to: `*` stands for one token, a trailing `>` for one or more. */
export function assertSubscribeSubject(subject: string): void {
  if (!isValidSubject(subject, { wildcards: true })) {
    throw invalid(
      `invalid subject "${subject}": tokens must be non-empty, without whitespace; ">" only last`,
      {
        subject,
      },
    );
  }
}

export function assertQueueName(queue: string): void {
  if (!QUEUE.test(queue)) {
    throw invalid(`invalid queue group "${queue}": use letters, digits, "_", "-", ".", ":"`, { queue });
  }
}

export function assertName(kind: "stream" | "durable" | "bucket", name: string): void {
  if (!NAME.test(name)) {
    throw invalid(`invalid ${kind} name "${name}": use letters, digits, "_" and "-"`, { [kind]: name });
  }
}

export function assertKvKey(key: string): void {
  if (!tokensValid(key, false, KV_KEY_TOKEN)) {
    throw invalid(`invalid key "${key}": dot-separated tokens of letters, digits, "-", "_", "/", "="`, {
      key,
    });
  }
}

export function assertKvKeyFilter(filter: string): void {
  if (!tokensValid(filter, true, KV_KEY_TOKEN)) {
    throw invalid(`invalid key filter "${filter}"`, { key: filter });
  }
}

function assertSlug(what: "tenant" | "area", value: string): void {
  if (!SLUG_TOKEN.test(value)) {
    throw invalid(`invalid ${what} "${value}" in subject: use a-z, 0-9, "_" and "-"`, { [what]: value });
  }
}

/** `sonde.<tenant>.<area>.<tokens…>` for publishing; every token is checked so none can add or widen tokens. */
export function subjectFor(tenant: string, area: string, ...tokens: string[]): string {
  assertSlug("tenant", tenant);
  assertSlug("area", area);
  for (const t of tokens) {
    if (!LITERAL_TOKEN.test(t)) {
      throw invalid(`invalid subject token "${t}": no dots, wildcards or whitespace`, { token: t });
    }
  }
  return [SUBJECT_ROOT, tenant, area, ...tokens].join(".");
}

/**
 * A subscription pattern under `sonde.`; `tenant` may be `*` for system components serving every
 * tenant, and the trailing tokens may be `*` or a final `>`.
 */
export function subjectPattern(tenant: string, area: string, ...tokens: string[]): string {
  if (tenant !== "*") assertSlug("tenant", tenant);
  assertSlug("area", area);
  const subject = [SUBJECT_ROOT, tenant, area, ...tokens].join(".");
  assertSubscribeSubject(subject);
  return subject;
}

/** NATS wildcard semantics: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Whether some subject matches both patterns (JetStream refuses streams whose subjects overlap). */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const s = x[i];
    const t = y[i];
    if (s === ">" || t === ">") return s !== undefined && t !== undefined;
    if (s === undefined || t === undefined) return false;
    if (s !== "*" && t !== "*" && s !== t) return false;
  }
  return true;
}

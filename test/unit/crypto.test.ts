import { randomBytes } from "node:crypto";
import { drizzle } from "drizzle-orm/node-postgres";
import { pgTable, text, uuid, integer } from "drizzle-orm/pg-core";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { actionType, authorizeIf, policy, roleAtLeast, rowFilter } from "../../src/kernel/policy/checks.js";
import { defineResource } from "../../src/kernel/resource/define.js";
import { buildRegistry } from "../../src/kernel/resource/registry.js";
import { isSondeError } from "../../src/lib/errors.js";
import {
  envelopeKeyId,
  KEY_ID,
  openValue,
  parseEnvelope,
  sealValue,
} from "../../src/platform/crypto/envelope.js";
import { unwrapKey, wrapKey } from "../../src/platform/crypto/wrap.js";
import type { Orm } from "../../src/platform/db/types.js";
import * as schema from "../../src/platform/db/schema.js";

const key = randomBytes(32);
const seal = (plaintext: string, aad = "contacts.email", k = key, kid = "k1") =>
  sealValue(k, kid, plaintext, aad);
function open(envelope: string, aad = "contacts.email", k = key): string {
  const parsed = parseEnvelope(envelope);
  if (parsed === undefined) throw new Error("not an envelope");
  return openValue(k, parsed, aad);
}
/** The error a failing decryption throws (the test fails if it does not throw). */
function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(isSondeError(err, "SONDE_DECRYPTION_FAILED")).toBe(true);
    return err as Error;
  }
  throw new Error("expected decryption to fail");
}
/** Replaces one base64url character at `index` of the envelope with another. */
function flip(envelope: string, index: number): string {
  const c = envelope[index] === "A" ? "B" : "A";
  return envelope.slice(0, index) + c + envelope.slice(index + 1);
}

describe("value envelopes (AES-256-GCM)", () => {
  it("round-trips text, including empty and non-ASCII values, in a self-describing format", () => {
    for (const plaintext of ["alice@example.com", "", "Zoë Ünïcødé 🚀", "x".repeat(10_000)]) {
      const envelope = seal(plaintext);
      expect(envelope).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
      expect(open(envelope)).toBe(plaintext);
    }
    expect(seal("alice@example.com")).not.toContain("alice");
  });

  it("fails when the value is read from another place (AAD mismatch)", () => {
    const envelope = seal("alice@example.com", "contacts.email");
    const err = failure(() => open(envelope, "contacts.name"));
    expect(err.message).not.toContain("alice");
    failure(() => open(envelope, "integrations.email"));
  });

  it("fails on tampered ciphertext, tag, IV or key id, and never shows the value", () => {
    const envelope = seal("alice@example.com");
    const [, , , iv = "", sealed = ""] = envelope.split(":");
    const sealedAt = envelope.length - sealed.length;
    for (const tampered of [
      flip(envelope, sealedAt + 2), // ciphertext
      flip(envelope, envelope.length - 3), // tag
      flip(envelope, envelope.length - sealed.length - iv.length - 1 + 3), // iv
    ]) {
      expect(tampered).not.toBe(envelope);
      const err = failure(() => open(tampered));
      expect(err.message).not.toMatch(/alice|enc:v1/);
    }
    // Relabelled with another key id, even one that maps to the same key: the header is authenticated.
    failure(() => open(envelope.replace("enc:v1:k1:", "enc:v1:k2:")));
    // Truncated: no tag left.
    expect(parseEnvelope(envelope.slice(0, sealedAt + 4))).toBeUndefined();
  });

  it("fails under another key", () => {
    const envelope = seal("alice@example.com");
    failure(() => open(envelope, "contacts.email", randomBytes(32)));
  });

  it("uses a fresh IV for every value", () => {
    const ivs = new Set<string>();
    const ciphertexts = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const envelope = seal("same value");
      const parts = envelope.split(":");
      ivs.add(parts[3] ?? "");
      ciphertexts.add(parts[4] ?? "");
    }
    expect(ivs.size).toBe(20_000);
    expect(ciphertexts.size).toBe(20_000);
  });

  it("names its key and refuses malformed envelopes and key ids", () => {
    expect(envelopeKeyId(seal("v", "t.c", key, "k42"))).toBe("k42");
    expect(envelopeKeyId("plain text")).toBeUndefined();
    for (const bad of [
      "enc:v1:k1",
      "enc:v1:k1:abc",
      "enc:v2:k1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
      "enc:v1:k 1:a:b",
    ]) {
      expect(parseEnvelope(bad)).toBeUndefined();
    }
    expect(KEY_ID.test("k1")).toBe(true);
    expect(KEY_ID.test("k:1")).toBe(false);
    expect(() => sealValue(key, "k:1", "v", "t.c")).toThrow();
  });
});

describe("data key wrapping (HKDF-SHA256 KEK, AES-256-GCM)", () => {
  const secret = "s".repeat(40);

  it("unwraps under the same secret and key id only", () => {
    const wrapped = wrapKey(secret, "k1", key);
    expect(wrapped).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(unwrapKey(secret, "k1", wrapped)?.equals(key)).toBe(true);
    expect(unwrapKey("t".repeat(40), "k1", wrapped)).toBeUndefined();
    expect(unwrapKey(secret, "k2", wrapped)).toBeUndefined();
    expect(unwrapKey(secret, "k1", "v1.garbage")).toBeUndefined();
    // A fresh salt per wrap: the same key wraps differently each time.
    expect(wrapKey(secret, "k1", key)).not.toBe(wrapped);
  });
});

describe("encrypted attributes verified at boot", () => {
  const contacts = pgTable("contacts", {
    id: uuid("id").primaryKey(),
    tenant_id: uuid("tenant_id").notNull(),
    name: text("name").notNull(),
    email: text("email"),
    age: integer("age"),
  });
  const readable = [policy(actionType("read"), authorizeIf(roleAtLeast("viewer")))];
  const base = { name: "contact", table: contacts, tenancy: "tenant" as const, policies: readable };
  const actions = { read: { type: "read" as const } };
  function bootError(spec: Parameters<typeof defineResource<typeof contacts>>[0]): string {
    try {
      buildRegistry([defineResource(spec)]);
    } catch (err) {
      if (isSondeError(err, "SONDE_CONFIG_INVALID")) return err.message;
      throw err;
    }
    throw new Error("expected boot to fail");
  }

  it("makes an encrypted attribute unfilterable", () => {
    const reg = buildRegistry([
      defineResource({ ...base, actions, attributes: { email: { encrypted: true } } }),
    ]);
    const r = reg.byName.get("contact");
    expect(r?.encrypted.has("email")).toBe(true);
    expect(r?.filterable.has("email")).toBe(false);
    expect(r?.filterable.has("name")).toBe(true);
  });

  it("rejects non-text columns, filterable, identities and policy filters on encrypted attributes", () => {
    expect(bootError({ ...base, actions, attributes: { age: { encrypted: true } } })).toBe(
      "resource contact: encrypted attribute age must be a text column (it is integer)",
    );
    expect(
      bootError({ ...base, actions, attributes: { email: { encrypted: true, filterable: true } } }),
    ).toBe("resource contact: encrypted attribute email cannot be filterable");
    expect(
      bootError({
        ...base,
        actions,
        attributes: { email: { encrypted: true } },
        identities: { unique_email: ["email"] },
      }),
    ).toBe("resource contact: identity unique_email names encrypted attribute email");
    expect(
      bootError({
        ...base,
        actions,
        attributes: { email: { encrypted: true } },
        policies: [
          policy(
            actionType("read"),
            authorizeIf(rowFilter("own address", () => ({ field: "email", op: "eq", value: "x" }))),
          ),
        ],
      }),
    ).toBe('resource contact: policy filter "own address" names encrypted attribute email');
  });

  it("refuses to boot a kernel without a keyring when a resource encrypts", () => {
    const orm = drizzle.mock({ schema }) as unknown as Orm;
    const spec = defineResource({ ...base, actions, attributes: { email: { encrypted: true } } });
    expect(() => new Kernel({ orm, resources: [spec], logger: pino({ level: "silent" }) })).toThrow(
      "resource contact: encrypted attributes (email) need a keyring, and the kernel has none",
    );
  });
});

import { filterFields } from "../filter.js";
import { SondeError } from "../../lib/errors.js";
import { buildResource } from "./build.js";
import type { ResourceDeclaration } from "./define.js";
import type { AnyResource } from "./types.js";

export interface ResourceRegistry {
  readonly byName: ReadonlyMap<string, AnyResource>;
  readonly byType: ReadonlyMap<string, AnyResource>;
}

/**
 * Builds every declared resource and verifies what needs the whole set: unique names and types, and
 * relationships that point at registered resources and existing attributes. Boot fails on the first
 * problem, with a message naming the resource and the declaration at fault.
 */
export function buildRegistry(declarations: readonly ResourceDeclaration[]): ResourceRegistry {
  const byName = new Map<string, AnyResource>();
  const byType = new Map<string, AnyResource>();
  for (const spec of declarations) {
    const r = buildResource(spec);
    if (byName.has(r.name))
      throw new SondeError("SONDE_CONFIG_INVALID", `resource ${r.name} is declared twice`);
    if (byType.has(r.type))
      throw new SondeError("SONDE_CONFIG_INVALID", `resource type ${r.type} is declared twice`);
    byName.set(r.name, r);
    byType.set(r.type, r);
  }
  for (const r of byName.values()) {
    for (const [name, rel] of Object.entries(r.spec.relationships ?? {})) {
      const target = byName.get(rel.resource().name);
      if (target === undefined) {
        throw new SondeError(
          "SONDE_CONFIG_INVALID",
          `resource ${r.name}: relationship ${name} points to ${rel.resource().name}, which is not registered`,
        );
      }
      if (rel.kind === "has_many" && !target.columns.has(rel.destinationField)) {
        throw new SondeError(
          "SONDE_CONFIG_INVALID",
          `resource ${r.name}: relationship ${name} names unknown attribute ${target.name}.${rel.destinationField}`,
        );
      }
    }
    const quota = r.spec.quota;
    if (quota !== undefined) {
      const counted = quota.counts !== undefined ? byName.get(quota.counts().name) : r;
      const bad = (why: string) => new SondeError("SONDE_CONFIG_INVALID", `resource ${r.name}: quota ${why}`);
      if (r.tenancy !== "tenant") throw bad("needs a tenant-scoped resource");
      if (counted === undefined) throw bad(`counts ${quota.counts?.().name}, which is not registered`);
      if (counted.tenancy !== "tenant") throw bad(`counts ${counted.name}, which is not tenant-scoped`);
      for (const field of filterFields(quota.where ?? true)) {
        if (!counted.columns.has(field)) throw bad(`filters on unknown attribute ${counted.name}.${field}`);
      }
    }
  }
  return { byName, byType };
}

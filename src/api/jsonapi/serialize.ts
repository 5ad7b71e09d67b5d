/**
 * Records to JSON:API documents: resource objects (attributes, relationships with links and, where
 * known, linkage), compound documents (`included`) and top-level links. Attributes keep the names
 * the resource declares (snake_case); ids are strings; dates are ISO 8601 strings.
 */
import type { Rec } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { fieldsetMembers, readableAttributes } from "./fields.js";

export interface ResourceIdentifier {
  readonly type: string;
  readonly id: string;
}

export interface RelationshipObject {
  readonly links: { readonly self: string; readonly related: string };
  readonly data?: ResourceIdentifier | null | readonly ResourceIdentifier[];
}

export interface ResourceObject extends ResourceIdentifier {
  readonly attributes: Record<string, unknown>;
  readonly relationships?: Record<string, RelationshipObject>;
  readonly links: { readonly self: string };
}

/** Linkage known for a record, by relationship name (set for belongs_to and included has_many). */
export type Linkage = ReadonlyMap<string, ResourceIdentifier | null | readonly ResourceIdentifier[]>;

/** A record together with the resource it belongs to (included documents mix types). */
export interface Typed {
  readonly resource: AnyResource;
  readonly record: Rec;
  readonly linkage?: Linkage;
}

/** Serialises one JSON value: dates as ISO strings, big integers as strings (JSON has no int64). */
function jsonValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(jsonValue);
  return v;
}

export class Serializer {
  /**
   * @param base absolute URL of the API root, e.g. `http://host/api/v2`
   * @param fields sparse fieldsets by type (a type without one shows every member)
   */
  constructor(
    private readonly base: string,
    private readonly fields: ReadonlyMap<string, ReadonlySet<string>>,
  ) {}

  self(resource: AnyResource, id: string): string {
    return `${this.base}/${resource.type}/${encodeURIComponent(id)}`;
  }

  collection(resource: AnyResource): string {
    return `${this.base}/${resource.type}`;
  }

  id(resource: AnyResource, record: Rec): string {
    return String(record[resource.primaryKey]);
  }

  resourceObject(item: Typed): ResourceObject {
    const { resource, record } = item;
    const id = this.id(resource, record);
    const shown = this.fields.get(resource.type) ?? fieldsetMembers(resource);
    const attributes: Record<string, unknown> = {};
    // Requested aggregates sit on the record next to attributes and calculations.
    const names = [
      ...readableAttributes(resource),
      ...Object.keys(resource.spec.calculations ?? {}),
      ...Object.keys(resource.spec.aggregates ?? {}),
    ];
    for (const name of names) {
      if (shown.has(name) && name in record) attributes[name] = jsonValue(record[name]);
    }
    const self = this.self(resource, id);
    const relationships: Record<string, RelationshipObject> = {};
    for (const name of Object.keys(resource.spec.relationships ?? {})) {
      if (!shown.has(name)) continue;
      const links = { self: `${self}/relationships/${name}`, related: `${self}/${name}` };
      const data = item.linkage?.get(name);
      relationships[name] = data === undefined ? { links } : { links, data };
    }
    return {
      type: resource.type,
      id,
      attributes,
      ...(Object.keys(relationships).length > 0 ? { relationships } : {}),
      links: { self },
    };
  }

  /**
   * `included` without duplicates: one resource object per type and id, and none that repeats the
   * primary data (JSON:API 1.0, compound documents).
   */
  included(primary: readonly Typed[], related: readonly Typed[]): ResourceObject[] {
    const seen = new Set(primary.map((p) => `${p.resource.type}/${this.id(p.resource, p.record)}`));
    const out: ResourceObject[] = [];
    for (const item of related) {
      const key = `${item.resource.type}/${this.id(item.resource, item.record)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(this.resourceObject(item));
    }
    return out;
  }
}

export const JSONAPI_OBJECT = { version: "1.0" } as const;

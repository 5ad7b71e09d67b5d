/**
 * Request documents to action input. The document's shape is checked here (type, id, members);
 * attribute values are validated by the kernel's pipeline, whose errors already point into
 * `/data/attributes/...` and `/meta/arguments/...`. Every refusal here names `source.pointer`.
 */
import type { AnyResource } from "../../kernel/resource/types.js";
import { SondeError } from "../../lib/errors.js";

export interface WriteInput {
  readonly attributes: Record<string, unknown>;
  /** Action arguments, sent as `meta.arguments` (they are not attributes of the resource). */
  readonly arguments: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(pointer: string, message: string): SondeError {
  return new SondeError("SONDE_BAD_REQUEST", message, { pointer });
}

const TOP_LEVEL = new Set(["data", "meta", "jsonapi"]);
const DATA_MEMBERS = new Set(["type", "id", "attributes", "relationships", "meta", "links"]);

export type DocumentKind =
  | { readonly kind: "create"; readonly clientIds: boolean }
  | { readonly kind: "update"; readonly id: string }
  /** Custom action routes: the body is optional; when `data` is sent it identifies the record. */
  | { readonly kind: "action"; readonly id: string };

/** The JSON:API type a relationship points to (the kernel's registry knows it). */
export type RelatedType = (relationship: string) => string;

export function parseDocument(
  resource: AnyResource,
  body: unknown,
  expect: DocumentKind,
  relatedType: RelatedType,
): WriteInput {
  if (body === undefined && expect.kind === "action") return { attributes: {}, arguments: {} };
  if (!isObject(body)) throw bad("", "the request body must be a JSON:API document (an object)");
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL.has(key)) throw bad(`/${key}`, `a request document may not contain ${key}`);
  }
  const args = parseArguments(body.meta);
  if (body.data === undefined && expect.kind === "action") return { attributes: {}, arguments: args };
  const data = body.data;
  if (!isObject(data)) throw bad("/data", "data must be a resource object");
  for (const key of Object.keys(data)) {
    if (!DATA_MEMBERS.has(key)) throw bad(`/data/${key}`, `a resource object may not contain ${key}`);
  }
  if (typeof data.type !== "string") throw bad("/data/type", "data.type is required");
  if (data.type !== resource.type) {
    throw new SondeError(
      "SONDE_CONFLICT",
      `data.type is ${data.type} but this endpoint takes ${resource.type}`,
      {
        pointer: "/data/type",
      },
    );
  }
  const attributes = parseAttributes(data.attributes);
  Object.assign(attributes, parseRelationships(resource, data.relationships, attributes, relatedType));
  if (expect.kind === "create") {
    if (data.id !== undefined) {
      if (!expect.clientIds) {
        throw new SondeError("SONDE_FORBIDDEN", `${resource.type} does not accept client-generated ids`, {
          pointer: "/data/id",
        });
      }
      if (typeof data.id !== "string") throw bad("/data/id", "data.id must be a string");
      attributes[resource.primaryKey] = data.id;
    }
    return { attributes, arguments: args };
  }
  if (data.id === undefined && expect.kind === "update") throw bad("/data/id", "data.id is required");
  if (data.id !== undefined) {
    if (typeof data.id !== "string") throw bad("/data/id", "data.id must be a string");
    if (data.id !== expect.id) {
      throw new SondeError("SONDE_CONFLICT", `data.id ${data.id} does not match the URL's id ${expect.id}`, {
        pointer: "/data/id",
      });
    }
  }
  return { attributes, arguments: args };
}

function parseAttributes(value: unknown): Obj {
  if (value === undefined) return {};
  if (!isObject(value)) throw bad("/data/attributes", "data.attributes must be an object");
  return { ...value };
}

function parseArguments(meta: unknown): Obj {
  if (meta === undefined) return {};
  if (!isObject(meta)) throw bad("/meta", "meta must be an object");
  const args = meta.arguments;
  if (args === undefined) return {};
  if (!isObject(args)) throw bad("/meta/arguments", "meta.arguments must be an object");
  return { ...args };
}

/**
 * To-one relationships set their key attribute (`note: {data: {type, id}}` sets `note_id`); to-many
 * relationships are owned by the other side and cannot be written from here.
 */
function parseRelationships(
  resource: AnyResource,
  value: unknown,
  attributes: Obj,
  relatedType: RelatedType,
): Obj {
  if (value === undefined) return {};
  if (!isObject(value)) throw bad("/data/relationships", "data.relationships must be an object");
  const out: Obj = {};
  for (const [name, member] of Object.entries(value)) {
    const pointer = `/data/relationships/${name}`;
    const rel = resource.spec.relationships?.[name];
    if (rel === undefined) throw bad(pointer, `${resource.type} has no relationship ${name}`);
    if (rel.kind !== "belongs_to") {
      throw new SondeError("SONDE_FORBIDDEN", `${name} is set from the related records, not from here`, {
        pointer,
      });
    }
    if (rel.sourceField in attributes) {
      throw bad(pointer, `${name} and the attribute ${rel.sourceField} set the same thing; send one`);
    }
    if (!isObject(member) || !("data" in member)) throw bad(pointer, `${name} must be {"data": ...}`);
    const linkage = member.data;
    if (linkage === null) {
      out[rel.sourceField] = null;
      continue;
    }
    if (!isObject(linkage) || typeof linkage.type !== "string" || typeof linkage.id !== "string") {
      throw bad(`${pointer}/data`, `${name}.data must be null or {"type", "id"}`);
    }
    const expected = relatedType(name);
    if (linkage.type !== expected) {
      throw new SondeError("SONDE_CONFLICT", `${name} points to ${linkage.type}, not to ${expected}`, {
        pointer: `${pointer}/data/type`,
      });
    }
    out[rel.sourceField] = linkage.id;
  }
  return out;
}

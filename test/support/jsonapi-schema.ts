/**
 * Validates response documents against the JSON:API 1.0 JSON Schema (a copy of the json-api/json-api
 * repository's `_schemas/1.0/schema.json`, CC0 1.0, kept beside this file). The schema is a 2020-12
 * schema that still uses draft-07's `dependencies`, which Ajv's 2020 class understands.
 */
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS with `exports.default`; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const schema: unknown = JSON.parse(
  readFileSync(new URL("./jsonapi-1.0-schema.json", import.meta.url), "utf8"),
);

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema as object);

/** The validation errors of a response document, as readable lines; empty when it is valid. */
export function jsonApiErrors(document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || "/"} ${e.message ?? "invalid"} ${JSON.stringify(e.params)}`,
  );
}

/** Throws with every problem listed when the document is not a valid JSON:API 1.0 response. */
export function assertJsonApi(document: unknown): void {
  const errors = jsonApiErrors(document);
  if (errors.length > 0) {
    throw new Error(
      `not a valid JSON:API 1.0 document:\n${errors.join("\n")}\n${JSON.stringify(document, null, 2)}`,
    );
  }
}

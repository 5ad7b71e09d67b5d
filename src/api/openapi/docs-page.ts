/**
 * `/api/v2/docs`: a readable, self-contained HTML reference rendered from the OpenAPI document (no
 * script, no CDN: Sonde runs where there is no internet). Operations are grouped by resource; schemas
 * are shown as tables of their properties, with links between them.
 */
import type { OpenApiDocument } from "./document.js";
import type { JsonSchema } from "./schemas.js";

const METHODS = ["get", "post", "patch", "delete"] as const;

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inline code spans of the descriptions (`x`) as <code>; everything else escaped. */
function prose(s: unknown): string {
  return esc(s ?? "").replace(/`([^`]+)`/g, "<code>$1</code>");
}

function isSchema(v: unknown): v is JsonSchema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function refName(schema: JsonSchema): string | undefined {
  const r = schema.$ref;
  return typeof r === "string" ? r.split("/").at(-1) : undefined;
}

/** A short type label: `string (uuid)`, `integer | null`, `array of Comment`, a link to a schema… */
function typeLabel(schema: unknown): string {
  if (!isSchema(schema)) return "any";
  const name = refName(schema);
  if (name !== undefined) return `<a href="#schema-${esc(name)}">${esc(name)}</a>`;
  if (schema.const !== undefined) return `<code>${esc(JSON.stringify(schema.const))}</code>`;
  for (const key of ["oneOf", "anyOf"] as const) {
    const parts = schema[key];
    if (Array.isArray(parts)) return parts.map(typeLabel).join(" | ");
  }
  const t = schema.type;
  const types = Array.isArray(t) ? t.map(String) : t === undefined ? [] : [String(t)];
  if (types.length === 0) return "any";
  return types
    .map((ty) => {
      if (ty === "array") return `array of ${typeLabel(schema.items)}`;
      return typeof schema.format === "string" && ty !== "null"
        ? `${esc(ty)} (${esc(schema.format)})`
        : esc(ty);
    })
    .join(" | ");
}

function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  for (const key of ["minLength", "maxLength", "minimum", "maximum", "enum"] as const) {
    if (schema[key] !== undefined) parts.push(`${key} ${JSON.stringify(schema[key])}`);
  }
  if (schema.readOnly === true) parts.push("read-only");
  return parts.map(esc).join(", ");
}

/** Rows for a schema's properties; inline objects are flattened (`data.attributes.title`). */
function propertyRows(schema: JsonSchema, prefix: string, depth: number): string[] {
  const props = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(props).flatMap(([name, p]) => {
    const s = isSchema(p) ? p : {};
    const path = `${prefix}${name}`;
    const row = `<tr><td><code>${esc(path)}</code>${required.has(name) ? " <b>*</b>" : ""}</td><td>${typeLabel(s)}</td><td>${constraints(s)} ${prose(s.description)}</td></tr>`;
    const nested = isSchema(s.properties) && depth < 3 ? propertyRows(s, `${path}.`, depth + 1) : [];
    return [row, ...nested];
  });
}

function propertiesTable(schema: JsonSchema): string {
  const rows = propertyRows(schema, "", 0);
  if (rows.length === 0) return "<p><i>No properties.</i></p>";
  return `<table><thead><tr><th>Name</th><th>Type</th><th>Notes</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function resolveParam(doc: OpenApiDocument, p: unknown): JsonSchema {
  if (!isSchema(p)) return {};
  const name = refName(p);
  return name === undefined ? p : (doc.components.parameters[name] ?? {});
}

function content(v: unknown): string {
  if (!isSchema(v) || !isSchema(v.content)) return "";
  return Object.values(v.content)
    .map((m) => (isSchema(m) ? typeLabel(m.schema) : ""))
    .join(", ");
}

function operation(
  doc: OpenApiDocument,
  path: string,
  method: string,
  op: JsonSchema,
  shared: unknown[],
): string {
  const params = [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])].map((p) =>
    resolveParam(doc, p),
  );
  const paramRows = params
    .map(
      (p) =>
        `<tr><td><code>${esc(p.name)}</code>${p.required === true ? " <b>*</b>" : ""}</td><td>${esc(p.in)}</td><td>${typeLabel(p.schema)}</td><td>${prose(p.description)}</td></tr>`,
    )
    .join("");
  const body = isSchema(op.requestBody)
    ? `<h4>Request body${op.requestBody.required === true ? "" : " (optional)"}</h4><p>${content(op.requestBody)}</p>`
    : "";
  const responses = isSchema(op.responses) ? op.responses : {};
  const responseRows = Object.entries(responses)
    .map(([status, r]) => {
      const resolved =
        isSchema(r) && refName(r) !== undefined ? doc.components.responses[refName(r) ?? ""] : r;
      const res = isSchema(resolved) ? resolved : {};
      return `<tr><td>${esc(status)}</td><td>${prose(res.description)}</td><td>${content(res)}</td></tr>`;
    })
    .join("");
  return `<section class="op" id="${esc(op.operationId)}">
<h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p><b>${prose(op.summary)}</b>${op.description !== undefined ? ` ${prose(op.description)}` : ""}</p>
${paramRows ? `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>${paramRows}</tbody></table>` : ""}
${body}
<h4>Responses</h4><table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead><tbody>${responseRows}</tbody></table>
</section>`;
}

export function renderDocsPage(doc: OpenApiDocument): string {
  const sections = doc.tags.map((tag) => {
    const ops: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const method of METHODS) {
        const op = item[method];
        if (isSchema(op) && Array.isArray(op.tags) && op.tags.includes(tag.name))
          ops.push(operation(doc, path, method, op, shared));
      }
    }
    return `<section id="tag-${esc(tag.name)}"><h2>${esc(tag.name)}</h2><p>${prose(tag.description)}</p>${ops.join("\n")}</section>`;
  });
  const schemas = Object.entries(doc.components.schemas).map(
    ([name, s]) =>
      `<section id="schema-${esc(name)}"><h3>${esc(name)}</h3><p>${prose(s.description)}</p>${propertiesTable(s)}</section>`,
  );
  const nav = doc.tags.map((t) => `<li><a href="#tag-${esc(t.name)}">${esc(t.name)}</a></li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)} ${esc(doc.info.version)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;display:flex}
nav{width:14rem;padding:1rem;border-right:1px solid #d0d7de;position:sticky;top:0;height:100vh;overflow:auto;flex:none}
main{padding:1rem 2rem;max-width:70rem;min-width:0}
code{background:#f2f4f7;padding:.05rem .3rem;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
.op{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.5rem;text-align:center;color:#fff;border-radius:4px;padding:0 .4rem;font-size:.85em}
.get{background:#1f6feb}.post{background:#1a7f37}.patch{background:#9a6700}.delete{background:#cf222e}
</style></head>
<body><nav><b>${esc(doc.info.title)}</b><p>v${esc(doc.info.version)} · <a href="openapi.json">openapi.json</a></p><ul>${nav}</ul><p><a href="#schemas">Schemas</a></p></nav>
<main><h1>${esc(doc.info.title)}</h1><p>${prose(doc.info.description)}</p>
<p>Base URL: <code>${esc(doc.servers[0]?.url ?? "/")}</code>. Authentication: <code>Authorization: Bearer &lt;token&gt;</code> or a session cookie.</p>
${sections.join("\n")}
<h2 id="schemas">Schemas</h2>
${schemas.join("\n")}
</main></body></html>`;
}

/**
 * A Sonde HTTP server with the JSON:API and OpenAPI plugins over the kernel fixtures, and a client
 * that checks every JSON:API response: the media type, and the document against the JSON:API 1.0
 * schema (errors included). Actors authenticate with fixed bearer tokens (`a-admin`, `b-viewer`…),
 * one per tenant and role, which is all the authentication seam needs in these tests.
 */
import type { FastifyInstance } from "fastify";
import type { UserActor } from "../../src/kernel/actor.js";
import { type ActorResolver, bearerToken } from "../../src/api/auth/actor.js";
import { testHttpServer } from "../support/http-server.js";
import { jsonApiRoutes } from "../../src/api/jsonapi/routes.js";
import { openApiRoutes } from "../../src/api/openapi/routes.js";
import { type DatabaseTarget, type TestDatabase } from "../support/databases.js";
import { assertJsonApi } from "../support/jsonapi-schema.js";
import { type Fixture, setupKernel } from "../support/kernel-fixtures.js";

export const MEDIA = "application/vnd.api+json";

export interface ResourceObj {
  readonly type: string;
  readonly id: string;
  readonly attributes: Record<string, unknown>;
  readonly relationships?: Record<
    string,
    { readonly data?: unknown; readonly links: Record<string, string> }
  >;
  readonly links: { readonly self: string };
}

export interface ErrorObj {
  readonly status: string;
  readonly code: string;
  readonly detail: string;
  readonly source?: { readonly pointer?: string; readonly parameter?: string };
  readonly meta?: Record<string, unknown>;
}

export interface Doc {
  readonly data?: ResourceObj | ResourceObj[] | null;
  readonly included?: ResourceObj[];
  readonly errors?: ErrorObj[];
  readonly links?: { readonly self?: string; readonly next?: string | null; readonly related?: string };
  readonly meta?: Record<string, unknown>;
}

export interface Res {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly raw: string;
  readonly doc: Doc;
}

export interface CallOptions {
  /** A bearer token (`a-admin`); omit for an anonymous request. */
  readonly as?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export const TENANTS = ["a", "b"] as const;
export const ROLES = ["viewer", "operator", "admin"] as const;

export interface Harness {
  readonly app: FastifyInstance;
  readonly f: Fixture;
  /** The fixture actor behind a token. */
  readonly actors: ReadonlyMap<string, UserActor>;
  call(method: "GET" | "POST" | "PATCH" | "DELETE", url: string, opts?: CallOptions): Promise<Res>;
  close(): Promise<void>;
}

export async function openHarness(target: DatabaseTarget): Promise<Harness> {
  const t: TestDatabase = await target.open();
  const f = await setupKernel(t.db);
  const actors = new Map<string, UserActor>();
  for (const tenant of TENANTS) {
    for (const role of ROLES)
      actors.set(`${tenant}-${role}`, f.actor(tenant === "a" ? f.tenantA : f.tenantB, role));
  }
  const resolveActor: ActorResolver = async (request) => {
    const token = bearerToken(request);
    return token === undefined ? null : (actors.get(token) ?? null);
  };
  const app = await testHttpServer();
  await app.register(jsonApiRoutes, { prefix: "/api/v2", kernel: f.kernel, resolveActor });
  await app.register(openApiRoutes, { prefix: "/api/v2", kernel: f.kernel });
  await app.ready();

  return {
    app,
    f,
    actors,
    async call(method, url, opts = {}) {
      const headers: Record<string, string> = { accept: MEDIA };
      if (opts.as !== undefined) headers.authorization = `Bearer ${opts.as}`;
      if (opts.body !== undefined) headers["content-type"] = MEDIA;
      Object.assign(headers, opts.headers ?? {});
      const res = await app.inject({
        method,
        url,
        headers,
        ...(opts.body !== undefined
          ? { payload: typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) }
          : {}),
      });
      if (res.statusCode === 204) {
        if (res.body !== "") throw new Error(`204 with a body: ${res.body}`);
        return { status: 204, headers: res.headers, raw: "", doc: {} };
      }
      const type = String(res.headers["content-type"] ?? "");
      if (type !== MEDIA) {
        throw new Error(`${method} ${url} answered ${res.statusCode} with content type ${type}: ${res.body}`);
      }
      const doc = JSON.parse(res.body) as Doc;
      assertJsonApi(doc);
      return { status: res.statusCode, headers: res.headers, raw: res.body, doc };
    },
    async close() {
      await app.close();
      await t.dispose();
    },
  };
}

/** The primary data of a single-resource document. */
export function one(res: Res): ResourceObj {
  const data = res.doc.data;
  if (data === null || data === undefined || Array.isArray(data)) {
    throw new Error(`expected one resource, got ${res.status}: ${res.raw}`);
  }
  return data;
}

/** The primary data of a collection document. */
export function many(res: Res): ResourceObj[] {
  const data = res.doc.data;
  if (!Array.isArray(data)) throw new Error(`expected a collection, got ${res.status}: ${res.raw}`);
  return data;
}

/** The single error object of an error document. */
export function error(res: Res): ErrorObj {
  const [e] = res.doc.errors ?? [];
  if (e === undefined) throw new Error(`expected an error, got ${res.status}: ${res.raw}`);
  return e;
}

/** A JSON:API create document for notes. */
export function noteDoc(attributes: Record<string, unknown>): unknown {
  return { data: { type: "notes", attributes } };
}

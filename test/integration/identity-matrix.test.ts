/**
 * The role × action matrix of the identity resources, over HTTP with real sessions: a viewer, an
 * operator and an admin of tenant acme, and a super user (no membership) acting there with
 * X-Sonde-Tenant. Each cell runs against a fresh target where the action changes it. docs/identity.md
 * carries the same table; when one changes, so must the other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "../../src/kernel/actor.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import {
  type CallOptions,
  doc,
  error,
  type IdentityHarness,
  many,
  type Method,
  openIdentityHarness,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const WHO = ["viewer", "operator", "admin", "super"] as const;
type Who = (typeof WHO)[number];

/** What a target factory may use: the harness and the tenants and people of the suite. */
interface World {
  readonly h: IdentityHarness;
  readonly acme: string;
  readonly globex: string;
  readonly self: Readonly<Record<Who, string>>;
  /** A token of each session user (the super user has none in acme: a viewer's token stands in). */
  readonly ownToken: (who: Who) => Promise<string>;
  readonly next: () => number;
}

interface Row {
  readonly method: Method;
  /** `{id}` is replaced by the target's id. */
  readonly path: string;
  readonly target?: (w: World, who: Who) => Promise<string>;
  readonly body?: (id: string, n: number) => unknown;
  /** Expected status for viewer, operator, admin, super user. */
  readonly expect: readonly [number, number, number, number];
  /** The route is not offered at all (404 SONDE_ROUTE_NOT_FOUND for everyone). */
  readonly absent?: true;
}

const system = systemActor("matrix");

/** Another viewer of acme (no password: never signs in); returns user and membership ids. */
async function member(w: World): Promise<{ user: string; membership: string }> {
  const user = await w.h.createUser(`member-${w.next()}@example.com`, { password: null });
  return { user, membership: await w.h.addMember(w.acme, user, "viewer") };
}
async function invitation(w: World): Promise<string> {
  const k = w.h.kernel;
  const rec = await k.create(
    k.resource("invitation"),
    { actor: system, tenantId: w.acme },
    { email: `invitee-${w.next()}@example.com`, role: "viewer" },
  );
  return String(rec.id);
}
async function othersToken(w: World): Promise<string> {
  const k = w.h.kernel;
  const { user } = await member(w);
  const rec = await k.create(
    k.resource("api_token"),
    { actor: system, tenantId: w.acme },
    { name: "someone else's", scope: "read", user_id: user },
  );
  return String(rec.id);
}
async function tenant(w: World, suspended = false): Promise<string> {
  const id = await w.h.createTenant(`spare-${w.next()}`);
  if (suspended)
    await w.h.kernel.runAction(w.h.kernel.resource("tenant"), "suspend", { actor: system }, { id });
  return id;
}

const own = async (w: World) => w.acme;
const other = async (w: World) => w.globex;
const self = async (w: World, who: Who) => w.self[who];

export const MATRIX: readonly Row[] = [
  // tenants
  { method: "GET", path: "/tenants", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/tenants/{id}", target: own, expect: [200, 200, 200, 200] },
  { method: "GET", path: "/tenants/{id}", target: other, expect: [404, 404, 404, 200] },
  {
    method: "POST",
    path: "/tenants",
    body: (_id, n) => doc("tenants", { slug: `made-${n}`, name: "Made" }),
    expect: [403, 403, 403, 201],
  },
  {
    method: "PATCH",
    path: "/tenants/{id}",
    target: own,
    body: (id) => doc("tenants", { name: "Acme" }, id),
    expect: [403, 403, 403, 200],
  },
  { method: "POST", path: "/tenants/{id}/suspend", target: (w) => tenant(w), expect: [403, 403, 403, 200] },
  {
    method: "POST",
    path: "/tenants/{id}/resume",
    target: (w) => tenant(w, true),
    expect: [403, 403, 403, 200],
  },
  { method: "DELETE", path: "/tenants/{id}", target: own, expect: [404, 404, 404, 404], absent: true },
  // users
  { method: "GET", path: "/users", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/users/{id}", target: self, expect: [200, 200, 200, 404] },
  {
    method: "GET",
    path: "/users/{id}",
    target: async (w) => (await member(w)).user,
    expect: [404, 404, 200, 200],
  },
  {
    method: "PATCH",
    path: "/users/{id}",
    target: async (w) => (await member(w)).user,
    body: (id) => doc("users", { display_name: "Renamed" }, id),
    expect: [403, 403, 403, 200],
  },
  {
    method: "POST",
    path: "/users",
    body: () => doc("users", { email: "x@example.com", name: "X" }),
    expect: [404, 404, 404, 404],
    absent: true,
  },
  {
    method: "DELETE",
    path: "/users/{id}",
    target: async (w) => (await member(w)).user,
    expect: [404, 404, 404, 404],
    absent: true,
  },
  // memberships
  { method: "GET", path: "/memberships", expect: [200, 200, 200, 200] },
  {
    method: "GET",
    path: "/memberships/{id}",
    target: async (w) => (await member(w)).membership,
    expect: [404, 404, 200, 200],
  },
  {
    method: "POST",
    path: "/memberships",
    // Someone of another tenant only: invisible here, so not even a super user can name them.
    target: async (w) => {
      const user = await w.h.createUser(`outsider-${w.next()}@example.com`, { password: null });
      await w.h.addMember(w.globex, user, "viewer");
      return user;
    },
    body: (user) => doc("memberships", { user_id: user, role: "viewer" }),
    expect: [403, 403, 403, 422],
  },
  {
    method: "PATCH",
    path: "/memberships/{id}",
    target: async (w) => (await member(w)).membership,
    body: (id) => doc("memberships", { role: "operator" }, id),
    expect: [403, 403, 200, 200],
  },
  {
    method: "DELETE",
    path: "/memberships/{id}",
    target: async (w) => (await member(w)).membership,
    expect: [403, 403, 204, 204],
  },
  // invitations
  { method: "GET", path: "/invitations", expect: [403, 403, 200, 200] },
  { method: "GET", path: "/invitations/{id}", target: invitation, expect: [403, 403, 200, 200] },
  {
    method: "POST",
    path: "/invitations",
    body: (_id, n) => doc("invitations", { email: `new-${n}@example.com`, role: "operator" }),
    expect: [403, 403, 201, 201],
  },
  { method: "POST", path: "/invitations/{id}/resend", target: invitation, expect: [403, 403, 200, 200] },
  { method: "POST", path: "/invitations/{id}/revoke", target: invitation, expect: [403, 403, 200, 200] },
  {
    method: "PATCH",
    path: "/invitations/{id}",
    target: invitation,
    body: (id) => doc("invitations", { role: "admin" }, id),
    expect: [404, 404, 404, 404],
    absent: true,
  },
  {
    method: "DELETE",
    path: "/invitations/{id}",
    target: invitation,
    expect: [404, 404, 404, 404],
    absent: true,
  },
  // api-tokens
  { method: "GET", path: "/api-tokens", expect: [200, 200, 200, 200] },
  {
    method: "GET",
    path: "/api-tokens/{id}",
    target: (w, who) => w.ownToken(who),
    expect: [200, 200, 200, 200],
  },
  { method: "GET", path: "/api-tokens/{id}", target: othersToken, expect: [404, 404, 200, 200] },
  {
    method: "POST",
    path: "/api-tokens",
    body: () => doc("api-tokens", { name: "mine", scope: "read" }),
    // The super user is no member of acme: a token of theirs there would name a user it cannot see.
    expect: [201, 201, 201, 422],
  },
  {
    method: "POST",
    path: "/api-tokens/{id}/revoke",
    target: (w, who) => w.ownToken(who),
    expect: [200, 200, 200, 200],
  },
  { method: "POST", path: "/api-tokens/{id}/revoke", target: othersToken, expect: [404, 404, 200, 200] },
  {
    method: "PATCH",
    path: "/api-tokens/{id}",
    target: othersToken,
    body: (id) => doc("api-tokens", { name: "renamed" }, id),
    expect: [404, 404, 404, 404],
    absent: true,
  },
  {
    method: "DELETE",
    path: "/api-tokens/{id}",
    target: othersToken,
    expect: [404, 404, 404, 404],
    absent: true,
  },
];

function suite(target: DatabaseTarget) {
  describe(`identity role matrix: ${target.name}`, () => {
    let h: IdentityHarness;
    let w: World;
    const creds = new Map<Who, CallOptions>();

    beforeAll(async () => {
      h = await openIdentityHarness(target);
      const acme = await h.createTenant("acme");
      const globex = await h.createTenant("globex");
      const ids: Partial<Record<Who, string>> = {};
      for (const who of WHO) {
        const email = `${who}@example.com`;
        ids[who] = await h.createUser(email, { superUser: who === "super" });
        if (who !== "super") await h.addMember(acme, ids[who], who);
        const session = await h.signIn(email);
        creds.set(who, who === "super" ? { as: session, tenant: "acme" } : { as: session });
      }
      let n = 0;
      w = {
        h,
        acme,
        globex,
        self: ids as Record<Who, string>,
        next: () => ++n,
        ownToken: async (who) => {
          if (who === "super") return othersToken(w);
          return (await h.mintToken(creds.get(who)?.as, { name: `${who}'s`, scope: "read" })).id;
        },
      };
    });
    afterAll(async () => h?.close());

    for (const [n, row] of MATRIX.entries()) {
      it(`#${n} ${row.method} ${row.path}${row.target ? ` (${row.target.name})` : ""}`, async () => {
        for (const [i, who] of WHO.entries()) {
          const id = row.target !== undefined ? await row.target(w, who) : "";
          const url = `/api/v2${row.path.replace("{id}", id)}`;
          const body = row.body?.(id, w.next());
          const res = await h.call(row.method, url, {
            ...creds.get(who),
            ...(body !== undefined ? { body } : {}),
          });
          expect({ who, status: res.status }, res.raw).toEqual({ who, status: row.expect[i] });
          if (res.status === 403) expect(error(res).code).toBe("SONDE_FORBIDDEN");
          if (res.status === 404) {
            expect(error(res).code).toBe(row.absent ? "SONDE_ROUTE_NOT_FOUND" : "SONDE_NOT_FOUND");
          }
        }
      });
    }

    it("lists only what each role may read", async () => {
      const list = async (who: Who, path: string) =>
        many(await h.call("GET", `/api/v2${path}?page[size]=1000`, creds.get(who)));
      const slugs = async (who: Who) => (await list(who, "/tenants")).map((t) => t.attributes.slug);
      expect(await slugs("viewer")).toEqual(["acme"]);
      expect(await slugs("admin")).toEqual(["acme"]);
      expect(await slugs("super")).toEqual(expect.arrayContaining(["acme", "globex"]));
      // Viewers and operators read themselves and their own membership and tokens only.
      for (const who of ["viewer", "operator"] as const) {
        expect((await list(who, "/users")).map((u) => u.id)).toEqual([w.self[who]]);
        const mine = await list(who, "/memberships");
        expect(mine.map((m) => m.attributes.user_id)).toEqual([w.self[who]]);
        const tokens = await list(who, "/api-tokens");
        expect(tokens.every((t) => t.attributes.user_id === w.self[who])).toBe(true);
      }
      // Admins and the super user see every member of acme, and nobody who is not one.
      for (const who of ["admin", "super"] as const) {
        const users = await list(who, "/users");
        expect(users.map((u) => u.id)).toEqual(
          expect.arrayContaining([w.self.viewer, w.self.operator, w.self.admin]),
        );
        expect(users.every((u) => u.attributes.member_here === true)).toBe(true);
        const members = await list(who, "/memberships");
        expect(members.length).toBe(users.length);
        const owners = new Set((await list(who, "/api-tokens")).map((t) => t.attributes.user_id));
        expect(owners.size).toBeGreaterThan(1);
      }
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);

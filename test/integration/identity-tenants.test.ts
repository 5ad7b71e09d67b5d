/**
 * Tenants as super users run them: plan limits (max_users holds for invitations and acceptances),
 * suspension (members' sessions and tokens refused until resumed, the super user still in), and the
 * contact details stored encrypted.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByEmail } from "../../src/domains/identity/users.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import {
  type CallOptions,
  doc,
  error,
  type IdentityHarness,
  many,
  one,
  openIdentityHarness,
  type Res,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const PASSWORD = "a new and long password";

function suite(target: DatabaseTarget) {
  describe(`identity tenants: ${target.name}`, () => {
    let h: IdentityHarness;
    let root: CallOptions;

    beforeAll(async () => {
      h = await openIdentityHarness(target);
      await h.createTenant("acme");
      await h.createUser("root@example.com", { superUser: true });
      root = { as: await h.signIn("root@example.com"), tenant: "acme" };
    });
    afterAll(async () => h?.close());

    /** A tenant with an admin who is signed in. */
    async function tenantWithAdmin(slug: string): Promise<{ id: string; admin: CallOptions }> {
      const id = await h.createTenant(slug);
      const email = `admin@${slug}.example`;
      await h.addMember(id, await h.createUser(email), "admin");
      return { id, admin: { as: await h.signIn(email) } };
    }
    const limitReached = (res: Res) => {
      expect([res.status, error(res).code]).toEqual([422, "SONDE_TENANT_LIMIT_REACHED"]);
      expect(error(res).detail).toContain("max_users");
    };
    const inviteAs = (as: CallOptions, email: string) =>
      h.call("POST", "/api/v2/invitations", { ...as, body: doc("invitations", { email, role: "viewer" }) });
    const linkToken = (email: string) => {
      const text = h.mailbox.list({ to: email, tag: "invitation" })[0]?.text ?? "";
      return /[?&]token=(\S+)/.exec(text)?.[1] ?? "";
    };
    const setMaxUsers = async (id: string, max: number) => {
      const res = await h.call("PATCH", `/api/v2/tenants/${id}`, {
        ...root,
        body: doc("tenants", { max_users: max }, id),
      });
      expect([res.status, one(res).attributes.max_users]).toEqual([200, max]);
    };

    it("holds max_users for invitations and acceptances, and lets more in once raised", async () => {
      const { id, admin } = await tenantWithAdmin("small");
      await setMaxUsers(id, 2);
      // One member: two invitations may be pending, the first to accept fills the tenant.
      expect((await inviteAs(admin, "one@small.example")).status).toBe(201);
      expect((await inviteAs(admin, "two@small.example")).status).toBe(201);
      const first = await h.call("POST", "/api/v2/invitations/accept", {
        body: { token: linkToken("one@small.example"), name: "One", password: PASSWORD },
      });
      expect(first.status).toBe(200);

      const mails = h.mailbox.list().length;
      limitReached(await inviteAs(admin, "three@small.example"));
      expect(h.mailbox.list()).toHaveLength(mails);
      const full = await h.call("POST", "/api/v2/invitations/accept", {
        body: { token: linkToken("two@small.example"), name: "Two", password: PASSWORD },
      });
      limitReached(full);
      expect(await findUserByEmail(h.auth, "two@small.example")).toBeUndefined();
      expect(many(await h.call("GET", "/api/v2/memberships", admin))).toHaveLength(2);

      await setMaxUsers(id, 3);
      const later = await h.call("POST", "/api/v2/invitations/accept", {
        body: { token: linkToken("two@small.example"), name: "Two", password: PASSWORD },
      });
      expect(later.status).toBe(200);
      expect(many(await h.call("GET", "/api/v2/memberships", admin))).toHaveLength(3);
      limitReached(await inviteAs(admin, "four@small.example"));
    });

    it("suspends a tenant: its members are refused until the super user resumes it", async () => {
      const { id, admin } = await tenantWithAdmin("sleepy");
      const { token } = await h.mintToken(admin.as, { name: "ci", scope: "admin" });
      const member: CallOptions[] = [admin, { as: { token } }];
      for (const as of member) expect((await h.call("GET", "/api/v2/me", as)).status).toBe(200);

      const suspended = await h.call("POST", `/api/v2/tenants/${id}/suspend`, root);
      expect([suspended.status, one(suspended).attributes.status]).toEqual([200, "suspended"]);
      for (const as of member) {
        for (const url of [
          "/api/v2/me",
          "/api/v2/memberships",
          `/api/v2/tenants/${id}`,
          "/api/v2/api-tokens",
        ]) {
          const res = await h.call("GET", url, as);
          expect([url, res.status, error(res).code]).toEqual([url, 403, "SONDE_TENANT_SUSPENDED"]);
        }
        const write = await inviteAs(as, "nobody@sleepy.example");
        expect([write.status, error(write).code]).toEqual([403, "SONDE_TENANT_SUSPENDED"]);
      }
      // Nor does a member of only suspended tenants get a new session (sign-in-gate.ts).
      await expect(h.signIn("admin@sleepy.example")).rejects.toThrow(/403.*your tenant is suspended/);

      // The super user still acts there, and cannot suspend twice.
      const inside: CallOptions = { ...root, tenant: "sleepy" };
      expect(many(await h.call("GET", "/api/v2/memberships", inside))).toHaveLength(1);
      const twice = await h.call("POST", `/api/v2/tenants/${id}/suspend`, inside);
      expect([twice.status, error(twice).code]).toEqual([409, "SONDE_INVALID_TRANSITION"]);
      const resumed = await h.call("POST", `/api/v2/tenants/${id}/resume`, inside);
      expect([resumed.status, one(resumed).attributes.status]).toEqual([200, "active"]);
      const again = await h.call("POST", `/api/v2/tenants/${id}/resume`, inside);
      expect([again.status, error(again).code]).toEqual([409, "SONDE_INVALID_TRANSITION"]);

      for (const as of member) {
        expect((await h.call("GET", "/api/v2/me", as)).status).toBe(200);
        expect((await h.call("GET", "/api/v2/memberships", as)).status).toBe(200);
      }
    });

    it("never lets an admin change or remove their own membership; another admin may", async () => {
      const { id, admin } = await tenantWithAdmin("selfish");
      const secondEmail = "second@selfish.example";
      await h.addMember(id, await h.createUser(secondEmail), "admin");
      const second: CallOptions = { as: await h.signIn(secondEmail) };
      const me = (await h.call("GET", "/api/v2/me", admin)).json as { user: { id: string } };
      const all = many(await h.call("GET", "/api/v2/memberships", admin));
      const mine = all.find((m) => m.attributes.user_id === me.user.id)?.id ?? "";
      expect(mine).not.toBe("");

      const demote = await h.call("PATCH", `/api/v2/memberships/${mine}`, {
        ...admin,
        body: doc("memberships", { role: "viewer" }, mine),
      });
      expect([demote.status, error(demote).detail]).toEqual([
        422,
        "user_id: you cannot change or remove your own membership",
      ]);
      const leave = await h.call("DELETE", `/api/v2/memberships/${mine}`, admin);
      expect(leave.status).toBe(422);
      expect((await h.call("GET", "/api/v2/me", admin)).json).toMatchObject({ role: "admin" });

      const byOther = await h.call("PATCH", `/api/v2/memberships/${mine}`, {
        ...second,
        body: doc("memberships", { role: "operator" }, mine),
      });
      expect([byOther.status, one(byOther).attributes.role]).toEqual([200, "operator"]);
    });

    it("keeps the contact encrypted at rest and answers it in clear", async () => {
      const created = await h.call("POST", "/api/v2/tenants", {
        ...root,
        body: doc("tenants", {
          slug: "initech",
          name: "Initech",
          contact_email: "bill@initech.example",
          contact_name: "Bill L.",
        }),
      });
      expect(created.status).toBe(201);
      const id = one(created).id;
      expect(one(created).attributes).toMatchObject({
        contact_email: "bill@initech.example",
        contact_name: "Bill L.",
      });
      const read = one(await h.call("GET", `/api/v2/tenants/${id}`, root)).attributes;
      expect([read.contact_email, read.contact_name]).toEqual(["bill@initech.example", "Bill L."]);

      const [row] = await h.t.db.orm
        .select({ email: tenants.contact_email, name: tenants.contact_name })
        .from(tenants)
        .where(eq(tenants.id, id));
      for (const stored of [row?.email, row?.name]) {
        expect(stored).toMatch(/^enc:v1:/);
      }
      expect(row?.email).not.toContain("bill");
      expect(row?.name).not.toContain("Bill");
      const raw = await h.t.db.orm.execute(
        sql`select count(*)::int as n from tenants where contact_email like '%initech%'`,
      );
      expect(JSON.stringify(raw)).toContain('"n":0');
      // Encrypted attributes are not filterable.
      const filter = await h.call("GET", "/api/v2/tenants?filter[contact_email]=bill@initech.example", root);
      expect(filter.status).toBe(400);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);

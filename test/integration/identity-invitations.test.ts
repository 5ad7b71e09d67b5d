/**
 * Invitations end to end: an admin invites over the JSON:API, the link arrives in the (dev) mailbox,
 * its page and the accept route create the user and membership, and every way a link stops working
 * (used, expired, revoked, replaced by a resend) is a 410. Existing users join without a new account.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/domains/identity/secrets.js";
import { findUserByEmail } from "../../src/domains/identity/users.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import {
  doc,
  error,
  type IdentityHarness,
  one,
  openIdentityHarness,
  PUBLIC_URL,
  type Res,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const NEW_PASSWORD = "a new and long password";

function suite(target: DatabaseTarget) {
  describe(`identity invitations: ${target.name}`, () => {
    let h: IdentityHarness;
    let acme: string;
    let ada: { readonly cookie: string };

    async function invite(email: string, role = "operator"): Promise<{ id: string; res: Res }> {
      const res = await h.call("POST", "/api/v2/invitations", {
        as: ada,
        body: doc("invitations", { email, role }),
      });
      expect(res.status, res.raw).toBe(201);
      return { id: one(res).id, res };
    }
    /** The newest invitation link mailed to the address. */
    function link(email: string): URL {
      const mail = h.mailbox.list({ to: email, tag: "invitation" })[0];
      const found = /https?:\/\/\S+\/invitations\/accept\?token=\S+/.exec(mail?.text ?? "");
      if (found === null) throw new Error(`no invitation link mailed to ${email}`);
      return new URL(found[0]);
    }
    const tokenOf = (url: URL) => url.searchParams.get("token") ?? "";
    const accept = (body: Record<string, unknown>) => h.call("POST", "/api/v2/invitations/accept", { body });
    const gone = (res: Res) => expect([res.status, error(res).code]).toEqual([410, "SONDE_LINK_INVALID"]);
    const form = (body: Record<string, string>) =>
      h.app.inject({
        method: "POST",
        url: "/invitations/accept",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams(body).toString(),
      });

    beforeAll(async () => {
      h = await openIdentityHarness(target);
      acme = await h.createTenant("acme");
      await h.addMember(acme, await h.createUser("ada@example.com"), "admin");
      ada = await h.signIn("ada@example.com");
    });
    afterAll(async () => h?.close());

    it("invites, mails a link whose page accepts, and lets the new user in with the invited role", async () => {
      const { id, res } = await invite("New.Person@Example.com");
      expect(res.doc.meta).toMatchObject({ mail: "sent" });
      expect(res.doc.meta).not.toHaveProperty("token");
      expect(one(res).attributes).toMatchObject({
        email: "new.person@example.com",
        role: "operator",
        state: "pending",
      });
      const mail = h.mailbox.list({ to: "new.person@example.com" })[0];
      expect(mail?.tag).toBe("invitation");
      const url = link("new.person@example.com");
      expect(url.origin + url.pathname).toBe(`${PUBLIC_URL}/invitations/accept`);
      const token = tokenOf(url);
      expect(res.raw).not.toContain(token);
      expect(res.raw).not.toContain(hashSecret(token));

      const page = await h.call("GET", `${url.pathname}${url.search}`);
      expect(page.status).toBe(200);
      expect(page.headers["content-type"]).toMatch(/^text\/html/);
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.raw).toContain('<form method="post" action="/invitations/accept">');
      expect(page.raw).toContain(`value="${token}"`);

      const accepted = await accept({ token, name: "New Person", password: NEW_PASSWORD });
      expect(accepted.status).toBe(200);
      expect(accepted.json).toMatchObject({
        tenant_id: acme,
        user: { email: "new.person@example.com" },
        role: "operator",
        created_user: true,
      });
      const invitation = one(await h.call("GET", `/api/v2/invitations/${id}`, { as: ada })).attributes;
      expect(invitation.state).toBe("accepted");
      expect(invitation.accepted_by).toBe((accepted.json?.user as { id: string }).id);

      const session = await h.signIn("new.person@example.com", NEW_PASSWORD);
      const me = await h.call("GET", "/api/v2/me", { as: session });
      expect(me.json).toMatchObject({
        tenant: { id: acme, slug: "acme" },
        role: "operator",
        user: { name: "New Person" },
      });
      gone(await accept({ token, name: "Again", password: NEW_PASSWORD }));
    });

    it("refuses expired, revoked and unknown links with 410", async () => {
      const { id: expired } = await invite("late@example.com");
      await h.t.db.orm.execute(
        sql`update invitations set expires_at = now() - interval '1 minute' where id = ${expired}`,
      );
      gone(await accept({ token: tokenOf(link("late@example.com")), name: "Late", password: NEW_PASSWORD }));

      const { id: revoked } = await invite("withdrawn@example.com");
      const res = await h.call("POST", `/api/v2/invitations/${revoked}/revoke`, { as: ada });
      expect(one(res).attributes.state).toBe("revoked");
      gone(
        await accept({ token: tokenOf(link("withdrawn@example.com")), name: "W", password: NEW_PASSWORD }),
      );
      gone(await accept({ token: "not-a-token", name: "W", password: NEW_PASSWORD }));
      for (const email of ["late@example.com", "withdrawn@example.com"]) {
        expect(await findUserByEmail(h.auth, email)).toBeUndefined();
      }
    });

    it("lets an existing user of another tenant join without a new account", async () => {
      const globex = await h.createTenant("globex");
      const bob = await h.createUser("bob@example.com");
      await h.addMember(globex, bob, "viewer");
      await invite("bob@example.com", "admin");
      const accepted = await accept({ token: tokenOf(link("bob@example.com")) });
      expect(accepted.json).toMatchObject({ user: { id: bob }, role: "admin", created_user: false });
      const me = await h.call("GET", "/api/v2/me", { as: await h.signIn("bob@example.com") });
      expect(me.json?.memberships).toEqual([
        { tenant: expect.objectContaining({ slug: "globex" }) as unknown, role: "viewer" },
        { tenant: expect.objectContaining({ slug: "acme" }) as unknown, role: "admin" },
      ]);
    });

    it("resend makes the old link invalid and the new one work", async () => {
      const { id } = await invite("twice@example.com", "viewer");
      const first = tokenOf(link("twice@example.com"));
      const resent = await h.call("POST", `/api/v2/invitations/${id}/resend`, { as: ada });
      expect([resent.status, resent.doc.meta?.mail]).toEqual([200, "sent"]);
      const second = tokenOf(link("twice@example.com"));
      expect(second).not.toBe(first);
      expect(h.mailbox.list({ to: "twice@example.com" })).toHaveLength(2);
      gone(await accept({ token: first, name: "Twice", password: NEW_PASSWORD }));
      expect((await accept({ token: second, name: "Twice", password: NEW_PASSWORD })).status).toBe(200);
    });

    it("asks a new user for a name and a password, pointing at the field, and creates nothing meanwhile", async () => {
      await invite("incomplete@example.com");
      const token = tokenOf(link("incomplete@example.com"));
      for (const [body, pointer] of [
        [{ token, password: NEW_PASSWORD }, "/name"],
        [{ token, name: "  ", password: NEW_PASSWORD }, "/name"],
        [{ token, name: "Inc" }, "/password"],
        [{ token, name: "Inc", password: "short" }, "/password"],
        [{ token, name: "Inc", password: NEW_PASSWORD, role: "admin" }, "/"],
      ] as const) {
        const res = await accept(body);
        expect([res.status, error(res).code, error(res).source?.pointer]).toEqual([
          422,
          "SONDE_VALIDATION_FAILED",
          pointer,
        ]);
        expect(await findUserByEmail(h.auth, "incomplete@example.com")).toBeUndefined();
      }
      expect((await accept({ token, name: "Inc", password: NEW_PASSWORD })).status).toBe(200);
    });

    it("accepts through the HTML form (form-encoded) and answers its errors in HTML", async () => {
      await invite("form@example.com", "viewer");
      const token = tokenOf(link("form@example.com"));
      const missing = await form({ token, name: "Form" });
      expect([missing.statusCode, missing.headers["content-type"]]).toEqual([
        422,
        "text/html; charset=utf-8",
      ]);
      expect(missing.body).toContain("password");
      expect(missing.body).toContain(`value="${token}"`);
      const ok = await form({ token, name: "Form User", password: NEW_PASSWORD });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain("You have joined as viewer");
      const again = await form({ token, name: "Form User", password: NEW_PASSWORD });
      expect(again.statusCode).toBe(410);
      expect(again.body).not.toContain("<form");
      const me = await h.call("GET", "/api/v2/me", { as: await h.signIn("form@example.com", NEW_PASSWORD) });
      expect(me.json).toMatchObject({ tenant: { slug: "acme" }, role: "viewer" });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);

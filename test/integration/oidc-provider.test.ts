// Proves the OIDC test provider harness with a minimal authorization-code + PKCE client written here
// on plain fetch, so the identity work's sign-in tests can trust what the harness does and refuses.
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  followAuthorizationRedirect,
  startOidcProvider,
  type OidcProviderHarness,
} from "../support/oidc-provider.js";

const CLIENT = {
  clientId: "sonde-web",
  clientSecret: "client-secret-for-tests",
  redirectUris: ["http://127.0.0.1:9/auth/callback"], // never contacted: login() stops before it
};
const ADA = { sub: "user-ada", email: "ada@example.test", name: "Ada Lovelace" };
const GRACE = { sub: "user-grace", email: "grace@example.test", emailVerified: false, name: "Grace Hopper" };

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  scopes_supported: string[];
  code_challenge_methods_supported: string[];
}

let op: OidcProviderHarness;
let discovery: Discovery;

beforeAll(async () => {
  op = await startOidcProvider({ clients: [CLIENT], users: [ADA, GRACE] });
  discovery = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as Discovery;
});
afterAll(async () => {
  await op?.close();
});

/** An authorization request as a relying party builds it: fresh state, nonce and PKCE verifier. */
function authorizeRequest(overrides: Record<string, string | undefined> = {}) {
  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const nonce = randomBytes(16).toString("base64url");
  const params: Record<string, string | undefined> = {
    client_id: CLIENT.clientId,
    response_type: "code",
    scope: "openid email profile",
    redirect_uri: CLIENT.redirectUris[0],
    state,
    nonce,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    ...overrides,
  };
  const url = new URL(discovery.authorization_endpoint);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return { url: url.href, verifier, state, nonce };
}

async function redeem(code: string, verifier: string, secret = CLIENT.clientSecret) {
  const res = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${secret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: CLIENT.redirectUris[0] ?? "",
      code_verifier: verifier,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function signIn(user: string) {
  const request = authorizeRequest();
  const { redirectTo } = await op.login(request.url, user);
  const callback = new URL(redirectTo);
  return { ...request, callback, code: callback.searchParams.get("code") ?? "" };
}

describe("OIDC test provider", () => {
  it("serves a discovery document naming its loopback issuer", () => {
    expect(op.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(discovery.issuer).toBe(op.issuer);
    expect(discovery.token_endpoint.startsWith(op.issuer)).toBe(true);
    expect(discovery.code_challenge_methods_supported).toContain("S256");
    expect(discovery.scopes_supported).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
  });

  it("runs authorization code + PKCE to an id_token that verifies with its JWKS, and userinfo", async () => {
    const flow = await signIn(ADA.email);
    expect(`${flow.callback.origin}${flow.callback.pathname}`).toBe(CLIENT.redirectUris[0]);
    expect(flow.callback.searchParams.get("state")).toBe(flow.state);
    expect(flow.callback.searchParams.get("iss")).toBe(op.issuer);

    const token = await redeem(flow.code, flow.verifier);
    expect(token.status).toBe(200);
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload } = await jwtVerify(String(token.body.id_token), jwks, {
      issuer: op.issuer,
      audience: CLIENT.clientId,
    });
    expect(payload).toMatchObject({
      sub: ADA.sub,
      email: ADA.email,
      email_verified: true,
      name: ADA.name,
      nonce: flow.nonce,
    });

    const userinfo = await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${String(token.body.access_token)}` },
    });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({ sub: ADA.sub, email: ADA.email, name: ADA.name });
  });

  it("signs a user in by sub through an app's redirect, with their own claims", async () => {
    const request = authorizeRequest();
    const { redirectTo } = await followAuthorizationRedirect(request.url, op, GRACE.sub);
    const token = await redeem(new URL(redirectTo).searchParams.get("code") ?? "", request.verifier);
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload } = await jwtVerify(String(token.body.id_token), jwks, { audience: CLIENT.clientId });
    expect(payload).toMatchObject({ sub: GRACE.sub, email: GRACE.email, email_verified: false });
    await expect(followAuthorizationRedirect("http://127.0.0.1:1/authorize", op, GRACE.sub)).rejects.toThrow(
      /not to the test provider/,
    );
  });

  it("rejects a wrong client secret with 401 invalid_client", async () => {
    const flow = await signIn(ADA.sub);
    const token = await redeem(flow.code, flow.verifier, "not-the-secret");
    expect(token.status).toBe(401);
    expect(token.body.error).toBe("invalid_client");
  });

  it("authenticates a client registered for client_secret_post by its form body", async () => {
    const postClient = {
      ...CLIENT,
      clientId: "sonde-post",
      tokenEndpointAuthMethod: "client_secret_post" as const,
    };
    const other = await startOidcProvider({ clients: [postClient], users: [ADA] });
    try {
      const meta = (await (
        await fetch(`${other.issuer}/.well-known/openid-configuration`)
      ).json()) as Discovery;
      const request = authorizeRequest({ client_id: postClient.clientId });
      const url = request.url.replace(op.issuer, other.issuer);
      const code = new URL((await other.login(url, ADA.email)).redirectTo).searchParams.get("code") ?? "";
      const token = await fetch(meta.token_endpoint, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: CLIENT.redirectUris[0] ?? "",
          code_verifier: request.verifier,
          client_id: postClient.clientId,
          client_secret: postClient.clientSecret,
        }),
      });
      expect(token.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it("refuses an unregistered redirect_uri without redirecting to it", async () => {
    const request = authorizeRequest({ redirect_uri: "http://127.0.0.1:9/evil" });
    const res = await fetch(request.url, { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.json()).toMatchObject({ error: "invalid_redirect_uri" });
    await expect(op.login(request.url, ADA.sub)).rejects.toThrow(/invalid_redirect_uri/);
  });

  it("requires PKCE: no challenge is refused, a wrong verifier gets invalid_grant", async () => {
    const noPkce = authorizeRequest({ code_challenge: undefined, code_challenge_method: undefined });
    const refused = new URL((await op.login(noPkce.url, ADA.sub)).redirectTo);
    expect(refused.searchParams.get("error")).toBe("invalid_request");
    expect(refused.searchParams.get("code")).toBeNull();

    const flow = await signIn(ADA.sub);
    const token = await redeem(flow.code, randomBytes(32).toString("base64url"));
    expect(token.status).toBe(400);
    expect(token.body.error).toBe("invalid_grant");
  });

  it("answers a code used twice with invalid_grant and revokes what the code issued", async () => {
    const flow = await signIn(ADA.sub);
    const first = await redeem(flow.code, flow.verifier);
    expect(first.status).toBe(200);
    const second = await redeem(flow.code, flow.verifier);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe("invalid_grant");
    const userinfo = await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${String(first.body.access_token)}` },
    });
    expect(userinfo.status).toBe(401);
  });

  it("fails login() for an unknown user, and returns access_denied when the user declines", async () => {
    await expect(op.login(authorizeRequest().url, "nobody@example.test")).rejects.toThrow(
      /unknown test user/,
    );
    const request = authorizeRequest();
    const denied = new URL((await op.login(request.url, ADA.sub, { deny: true })).redirectTo);
    expect(denied.searchParams.get("error")).toBe("access_denied");
    expect(denied.searchParams.get("state")).toBe(request.state);
  });

  it("releases its port on close()", async () => {
    const other = await startOidcProvider({ clients: [CLIENT], users: [ADA] });
    const port = Number(new URL(other.issuer).port);
    expect((await fetch(`${other.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    await other.close();
    await expect(fetch(other.issuer, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    const rebound = createServer();
    await new Promise<void>((resolve, reject) => {
      rebound.once("error", reject);
      rebound.listen(port, "127.0.0.1", resolve);
    });
    await new Promise<void>((resolve) => rebound.close(() => resolve()));
  });
});

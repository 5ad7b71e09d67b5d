/**
 * A real OpenID Connect provider (panva's `oidc-provider`) for sign-in tests, started in-process on
 * 127.0.0.1 and a free port. Sign-in is tested against the real protocol (discovery, PKCE, signed
 * id_tokens, client authentication, code replay detection) rather than a stub that agrees with us.
 *
 * The only part that is not the provider's own is the login page: `interactions.url` points at
 * `/interaction/:uid`, which this file answers itself through oidc-provider's interaction API
 * (`interactionDetails` / `interactionFinished`). `login()` plays the browser: it follows the
 * authorization URL with a cookie jar, POSTs the chosen user to that page (which logs the user in and
 * grants the requested scopes in one step: no consent screen), follows the provider's resume
 * redirect, and stops at the redirect to the client's redirect URI without following it.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, {
  type Account,
  type Adapter,
  type AdapterFactory,
  type AdapterPayload,
  type Configuration,
} from "oidc-provider";

export interface OidcTestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** How the client authenticates at the token endpoint; oidc-provider accepts only the registered one. */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
}

export interface OidcTestUser {
  sub: string;
  email: string;
  /** Defaults to true: a test user is normally a verified one. */
  emailVerified?: boolean;
  name: string;
}

export interface OidcProviderHarness {
  /** `http://127.0.0.1:<port>`, no trailing slash: what discovery and id_tokens name as `iss`. */
  issuer: string;
  close(): Promise<void>;
  /**
   * Signs `user` (a sub or an email) in for `authorizeUrl` and returns the provider's redirect to the
   * client's redirect URI (with `code` and `state`, or `error` when the request was refused or
   * `deny` is set). Throws when the provider answers with an error page instead of a redirect.
   */
  login(authorizeUrl: string, user: string, options?: { deny?: boolean }): Promise<{ redirectTo: string }>;
}

const REQUEST_TIMEOUT_MS = 5_000;
// authorize → interaction → resume → client is three redirects; a few spare, never an unbounded loop.
const MAX_HOPS = 6;
const MAX_FORM_BYTES = 4_096;
const INTERACTION_PATH = /^\/interaction\/([\w-]+)$/;

export async function startOidcProvider(opts: {
  clients: OidcTestClient[];
  users: OidcTestUser[];
}): Promise<OidcProviderHarness> {
  // Listen first: the issuer URL must carry the port the OS picked.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const adapter = memoryAdapter();
  let provider: Provider;
  try {
    provider = new Provider(issuer, configuration(opts, adapter.factory));
  } catch (err) {
    // A bad client or user list must not leave a listening server behind.
    server.close();
    throw err;
  }
  const callback = provider.callback();

  const findUser = (key: string): OidcTestUser | undefined =>
    opts.users.find((u) => u.sub === key || u.email.toLowerCase() === key.toLowerCase());

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return sendText(res, 400, "interaction cookie does not match the URL");
    if (req.method === "GET") {
      // Not a login form: a machine-readable summary, handy when debugging a stuck flow.
      return sendJson(res, 200, { uid, prompt: details.prompt.name, params: details.params });
    }
    if (req.method !== "POST") return sendText(res, 405, "GET or POST");
    const form = await readForm(req);
    if (form.get("decision") === "deny") {
      const denied = { error: "access_denied", error_description: "the user declined" };
      return provider.interactionFinished(req, res, denied, { mergeWithLastSubmission: false });
    }
    const user = findUser(form.get("user") ?? "");
    if (!user) return sendText(res, 400, `unknown test user ${JSON.stringify(form.get("user"))}`);
    // Consent in the same step as login: grant every scope the client asked for.
    const grant = new provider.Grant({ accountId: user.sub, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope ?? "openid"));
    const grantId = await grant.save();
    const result = { login: { accountId: user.sub }, consent: { grantId } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const uid = INTERACTION_PATH.exec(new URL(req.url ?? "/", issuer).pathname)?.[1];
    if (uid === undefined) return void callback(req, res);
    interaction(req, res, uid).catch((err: unknown) => {
      // SessionNotFound (missing or expired interaction cookie) and friends: say why, plainly.
      if (!res.headersSent) sendText(res, 400, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });

  const redirectUris = opts.clients.flatMap((c) => c.redirectUris.map(withoutQuery));
  let closing: Promise<void> | undefined;

  return {
    issuer,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (fetch pools them) would otherwise hold close() open.
        server.closeAllConnections();
      }).finally(() => adapter.clear());
      return closing;
    },
    login: (authorizeUrl, user, options) =>
      browse(issuer, redirectUris, authorizeUrl, user, options?.deny === true),
  };
}

/**
 * For a sign-in test of an app that starts the flow itself: takes the `Location` the app answered
 * with (the provider's authorization URL), checks it really points at this provider, and logs `user` in.
 */
export async function followAuthorizationRedirect(
  appResponseLocation: string | null | undefined,
  provider: OidcProviderHarness,
  user: string,
): Promise<{ redirectTo: string }> {
  if (!appResponseLocation) throw new Error("the app did not redirect to the provider (no Location)");
  const target = new URL(appResponseLocation);
  if (target.origin !== new URL(provider.issuer).origin) {
    throw new Error(`the app redirected to ${target.origin}, not to the test provider ${provider.issuer}`);
  }
  return provider.login(target.href, user);
}

function configuration(
  opts: { clients: OidcTestClient[]; users: OidcTestUser[] },
  adapter: Configuration["adapter"],
): Configuration {
  const findAccount = (_ctx: unknown, sub: string): Account | undefined => {
    const user = opts.users.find((u) => u.sub === sub);
    if (!user) return undefined;
    const claims = { sub, email: user.email, email_verified: user.emailVerified ?? true, name: user.name };
    return { accountId: sub, claims: () => claims };
  };
  // A fresh key per provider: nothing shared between tests, and no "development keys" warning.
  const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  return {
    adapter,
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? "client_secret_basic",
    })),
    findAccount,
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Put scope-requested claims in the id_token too, as most IdPs do, not only in userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    jwks: { keys: [{ ...jwk, kid: "sonde-test", alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    // Short, explicit lifetimes: the defaults run to days, and each prints a notice when used.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
    clientBasedCORS: () => false,
    // JSON instead of the default HTML page, so a failing login() shows the error in its message.
    renderError: (ctx, out) => {
      ctx.type = "application/json";
      ctx.body = out;
    },
  };
}

/** The browser part of login(): a bounded walk of redirects carrying the provider's cookies. */
async function browse(
  issuer: string,
  redirectUris: string[],
  authorizeUrl: string,
  user: string,
  deny: boolean,
): Promise<{ redirectTo: string }> {
  const origin = new URL(issuer).origin;
  let url = new URL(authorizeUrl);
  if (url.origin !== origin) throw new Error(`login() only talks to the test provider ${issuer}, got ${url}`);
  const cookies = new Map<string, string>();
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const submit = INTERACTION_PATH.test(url.pathname);
    const form = new URLSearchParams(deny ? { decision: "deny" } : { user });
    const res = await fetch(url, {
      method: submit ? "POST" : "GET",
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
        ...(submit ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      body: submit ? form.toString() : undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      // The provider clears a cookie by setting it empty.
      if (value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = res.headers.get("location");
    const body = await res.text();
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`login(${user}): ${url.pathname} answered ${res.status}: ${body.slice(0, 500)}`);
    }
    const next = new URL(location, url);
    if (redirectUris.includes(withoutQuery(next.href))) return { redirectTo: next.href };
    if (next.origin !== origin) throw new Error(`login(${user}): redirected off the provider to ${next}`);
    url = next;
  }
  throw new Error(`login(${user}): no redirect to the client after ${MAX_HOPS} hops`);
}

// Models whose rows belong to a grant and die with it (code replay revokes the tokens it issued).
const GRANTABLE = new Set(["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode"]);

/**
 * Storage for one provider, dropped by close(). Ours rather than the built-in one, which prints a
 * "development-only" warning on every start; linear scans are fine at test sizes.
 */
function memoryAdapter(): { factory: AdapterFactory; clear(): void } {
  const store = new Map<string, { model: string; payload: AdapterPayload; expiresAt: number }>();
  const live = (key: string): AdapterPayload | undefined => {
    const entry = store.get(key);
    if (entry && entry.expiresAt > Date.now()) return entry.payload;
    store.delete(key);
    return undefined;
  };
  const factory = (model: string): Adapter => {
    const key = (id: string): string => `${model}:${id}`;
    const findBy = (field: "uid" | "userCode", value: string): AdapterPayload | undefined => {
      for (const [k, e] of store) if (e.model === model && e.payload[field] === value) return live(k);
      return undefined;
    };
    return {
      async upsert(id, payload, expiresIn) {
        const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
        store.set(key(id), { model, payload: { ...payload }, expiresAt });
      },
      find: async (id) => live(key(id)),
      findByUid: async (uid) => findBy("uid", uid),
      findByUserCode: async (userCode) => findBy("userCode", userCode),
      async consume(id) {
        const payload = live(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const [k, e] of store) {
          if (GRANTABLE.has(e.model) && e.payload.grantId === grantId) store.delete(k);
        }
      },
    };
  };
  return { factory, clear: () => store.clear() };
}

function withoutQuery(href: string): string {
  const u = new URL(href);
  return `${u.origin}${u.pathname}`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_FORM_BYTES) throw new Error("interaction form too large");
  }
  return new URLSearchParams(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

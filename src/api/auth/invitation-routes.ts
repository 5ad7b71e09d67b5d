/**
 * Accepting an invitation: the one identity route that needs no sign-in, because the link's secret is
 * the credential. `POST /api/v2/invitations/accept` takes JSON for programs; `/invitations/accept`
 * is the page the mailed link opens (until the web console lands), a form that posts to itself.
 */
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { z } from "zod";
import {
  type AcceptInput,
  acceptInvitation,
  type InvitationDeps,
} from "../../domains/identity/invitations.js";
import { INVITATION_PAGE_PATH } from "../../domains/identity/mails.js";
import { isSondeError, SondeError } from "../../lib/errors.js";
import { acceptFormPosts, escapeHtml, htmlPage } from "../routes/html-page.js";

const acceptSchema = z.strictObject({
  token: z.string().min(1).max(200),
  name: z.string().max(200).optional(),
  password: z.string().max(1000).optional(),
});

function parseAccept(body: unknown): AcceptInput {
  const parsed = acceptSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join("/") ?? "";
    throw new SondeError("SONDE_VALIDATION_FAILED", `${field || "body"}: ${issue?.message ?? "invalid"}`, {
      pointer: `/${field}`,
    });
  }
  const { token, name, password } = parsed.data;
  return { token, ...(name !== undefined ? { name } : {}), ...(password ? { password } : {}) };
}

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return htmlPage(reply, status, "Sonde invitation", body);
}

function form(token: string, error?: string): string {
  return `<h1>Join Sonde</h1>
${error !== undefined ? `<p class="error">${escapeHtml(error)}</p>` : ""}
<p>If you already have an account, just accept. Otherwise choose your name and a password (12 characters or more).</p>
<form method="post" action="${INVITATION_PAGE_PATH}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="name">Name</label><input id="name" name="name" autocomplete="name">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password">
<button type="submit">Accept the invitation</button></form>`;
}

export const invitationRoutes: FastifyPluginAsync<InvitationDeps> = async (app, deps) => {
  acceptFormPosts(app);

  app.post("/api/v2/invitations/accept", async (request, reply) => {
    const accepted = await acceptInvitation(deps, parseAccept(request.body));
    void reply.header("cache-control", "no-store");
    return {
      tenant_id: accepted.tenantId,
      user: { id: accepted.userId, email: accepted.email },
      role: accepted.role,
      created_user: accepted.createdUser,
    };
  });

  app.get<{ Querystring: { token?: string } }>(INVITATION_PAGE_PATH, async (request, reply) => {
    const token = typeof request.query.token === "string" ? request.query.token : "";
    if (token === "") return page(reply, 400, "<h1>Invitation</h1><p>This link is incomplete.</p>");
    return page(reply, 200, form(token));
  });

  app.post(INVITATION_PAGE_PATH, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const token = typeof body.token === "string" ? body.token : "";
    try {
      const accepted = await acceptInvitation(deps, parseAccept(body));
      return page(
        reply,
        200,
        `<h1>Welcome</h1><p>You have joined as ${escapeHtml(accepted.role)}. <a href="/">Sign in</a> as ${escapeHtml(accepted.email)}.</p>`,
      );
    } catch (err) {
      if (!isSondeError(err)) throw err;
      if (err.code === "SONDE_LINK_INVALID")
        return page(reply, 410, `<h1>Invitation</h1><p>${escapeHtml(err.message)}</p>`);
      return page(reply, err.httpStatus, form(token, err.message));
    }
  });
};

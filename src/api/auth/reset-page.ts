/**
 * The page a password-reset mail links to (until the web console lands): a form for the new password,
 * posted back here and handed to better-auth's reset, which checks the single-use token, stores the
 * new hash and ends every session of the user.
 */
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { APIError } from "better-auth/api";
import { z } from "zod";
import type { Auth } from "../../domains/identity/auth.js";
import { PASSWORD_RESET_PAGE_PATH } from "../../domains/identity/mails.js";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../lib/credentials.js";
import { acceptFormPosts, escapeHtml, htmlPage } from "../routes/html-page.js";

export interface ResetPageOptions {
  readonly auth: Auth;
}

const postSchema = z.object({
  token: z.string().min(1).max(500),
  password: z.string(),
  confirm: z.string(),
});

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return htmlPage(reply, status, "Sonde password", body);
}

function form(token: string, error?: string): string {
  return `<h1>Choose a new password</h1>
${error !== undefined ? `<p class="error">${escapeHtml(error)}</p>` : ""}
<p>${PASSWORD_MIN_LENGTH} characters or more. Setting it signs you out everywhere.</p>
<form method="post" action="${PASSWORD_RESET_PAGE_PATH}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="password">New password</label><input id="password" name="password" type="password" autocomplete="new-password">
<label for="confirm">Again</label><input id="confirm" name="confirm" type="password" autocomplete="new-password">
<button type="submit">Set the password</button></form>`;
}

/** better-auth's refusal as a sentence. */
function reason(err: unknown): string {
  if (!(err instanceof APIError)) throw err;
  if (err.body?.code === "INVALID_TOKEN") {
    return "This link is not valid any more: it expired or was used. Ask for a new one.";
  }
  return err.body?.message ?? "The password could not be set.";
}

export const resetPageRoutes: FastifyPluginAsync<ResetPageOptions> = async (app, opts) => {
  acceptFormPosts(app);

  app.get<{ Querystring: { token?: string } }>(PASSWORD_RESET_PAGE_PATH, async (request, reply) => {
    const token = typeof request.query.token === "string" ? request.query.token : "";
    if (token === "") return page(reply, 400, "<h1>Password</h1><p>This link is incomplete.</p>");
    return page(reply, 200, form(token));
  });

  app.post(PASSWORD_RESET_PAGE_PATH, async (request, reply) => {
    const parsed = postSchema.safeParse(request.body);
    if (!parsed.success) return page(reply, 400, "<h1>Password</h1><p>This form is incomplete.</p>");
    const { token, password, confirm } = parsed.data;
    if (password !== confirm) return page(reply, 422, form(token, "The two passwords differ."));
    if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
      return page(
        reply,
        422,
        form(token, `The password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`),
      );
    }
    try {
      await opts.auth.api.resetPassword({ body: { token, newPassword: password } });
    } catch (err) {
      return page(reply, 400, `<h1>Password</h1><p class="error">${escapeHtml(reason(err))}</p>`);
    }
    return page(
      reply,
      200,
      '<h1>Password set</h1><p>Your password is set. <a href="/">Sign in</a> with it.</p>',
    );
  });
};

import { z } from "zod";
import { actorId } from "../../../kernel/actor.js";
import {
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
  superUser,
} from "../../../kernel/policy/checks.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { AfterCommitEvent, ChangeContext, ResourceRef } from "../../../kernel/resource/types.js";
import { invitations } from "../identity.schema.js";
import { generateSecret, hashSecret } from "../secrets.js";
import { invitationMail } from "../mails.js";
import { membershipResource } from "./membership.js";

/** How long an invitation link stays valid. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** A fresh link secret: its hash and expiry are stored, the secret goes to afterCommit (the mail). */
function mint(values: Record<string, unknown>, ctx: ChangeContext): Record<string, unknown> {
  const token = generateSecret();
  ctx.output.set("token", token);
  return { ...values, token_hash: hashSecret(token), expires_at: new Date(Date.now() + INVITATION_TTL_MS) };
}

function invitedBy(values: Record<string, unknown>, ctx: ChangeContext): Record<string, unknown> {
  const email = typeof values.email === "string" ? values.email.trim().toLowerCase() : values.email;
  return { ...values, email, invited_by: actorId(ctx.actor) };
}

function accepted(values: Record<string, unknown>, ctx: ChangeContext): Record<string, unknown> {
  return { ...values, accepted_by: ctx.arguments.user_id, accepted_at: new Date() };
}

/** Mails the link. No mailer (tests of other things): say so to the caller instead of pretending. */
async function sendInvitation(event: AfterCommitEvent): Promise<Record<string, unknown>> {
  const token = event.output.get("token");
  const { mailer, publicUrl } = event.services;
  if (mailer === undefined || publicUrl === undefined || typeof token !== "string") {
    return { mail: "not sent: no mailer" };
  }
  const sent = await mailer.send(invitationMail(event.record, token, publicUrl));
  return { mail: "sent", mail_id: sent.id };
}

const notExpired = (_values: Readonly<Record<string, unknown>>, ctx: ChangeContext) =>
  ctx.record?.expires_at instanceof Date && ctx.record.expires_at.getTime() < Date.now()
    ? { field: "expires_at", message: "the invitation has expired" }
    : undefined;

/**
 * Invitations: how people join a tenant. An admin invites an address with a role; Sonde mails a
 * single-use link (valid 7 days, stored as a SHA-256 only). Accepting it (POST
 * /api/v2/invitations/accept) creates the user if there is none with that address, and the
 * membership. Inviting counts against the tenant's `max_users`, as does accepting.
 */
export const invitationResource = defineResource({
  name: "invitation",
  table: invitations,
  tenancy: "tenant",
  attributes: {
    token_hash: { sensitive: true },
    email: { schema: z.email().max(320) },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["email", "role"],
      require: ["email", "role"],
      changes: [invitedBy, mint],
      afterCommit: sendInvitation,
      description: "Invites an address; the link is mailed, never returned.",
    },
    resend: {
      type: "update",
      route: "resend",
      changes: [mint],
      afterCommit: sendInvitation,
      description: "Mails a new link (the old one stops working) and restarts the 7 days.",
    },
    revoke: { type: "update", route: "revoke", description: "Withdraws the invitation." },
    accept: {
      type: "update",
      arguments: z.object({ user_id: z.string().min(1) }),
      changes: [accepted],
      validations: [notExpired],
      description: "Run by Sonde when the invitee follows the link.",
    },
  },
  stateMachine: {
    attribute: "state",
    initial: "pending",
    states: ["pending", "accepted", "revoked"],
    transitions: [
      { action: "resend", from: ["pending"], to: "pending" },
      { action: "revoke", from: ["pending"], to: "revoked" },
      { action: "accept", from: ["pending"], to: "accepted" },
    ],
  },
  quota: { limit: "max_users", counts: (): ResourceRef => membershipResource },
  minimumScope: "admin",
  policies: [
    bypass(superUser()),
    bypass(isSystemActor()),
    policy(actionType("read", "create", "update"), authorizeIf(roleAtLeast("admin"))),
  ],
  description: "Invitations to join this tenant, mailed as single-use links.",
});

/**
 * The mails identity sends itself (better-auth's own mails are written in auth.ts). Plain text, short,
 * with the link, how long it works, and what to do if the mail was not expected.
 */
import type { OutgoingMail } from "../../platform/mail/types.js";

/** Where an invitation link lands: a small page that asks for a name and password, then accepts. */
export const INVITATION_PAGE_PATH = "/invitations/accept";

export function invitationLink(publicUrl: string, token: string): string {
  const url = new URL(INVITATION_PAGE_PATH, publicUrl);
  url.searchParams.set("token", token);
  return url.toString();
}

export function invitationMail(
  invitation: Readonly<Record<string, unknown>>,
  token: string,
  publicUrl: string,
): OutgoingMail {
  const role = String(invitation.role);
  return {
    to: String(invitation.email),
    subject: "You are invited to Sonde",
    tag: "invitation",
    text: [
      `You have been invited to join a tenant on Sonde (${publicUrl}) as ${role}.`,
      "",
      "Accept the invitation here (the link works once, for 7 days):",
      invitationLink(publicUrl, token),
      "",
      "If you did not expect this invitation, ignore this mail.",
    ].join("\n"),
  };
}

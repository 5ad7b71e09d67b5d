/**
 * The mails identity sends: a magic link, an address confirmation, a password reset, an invitation.
 * Plain text, short, each with its link, how long the link works, and what to do when the mail was not
 * expected. Links point at SONDE_PUBLIC_URL; they are secrets, so nothing here logs them.
 */
import type { OutgoingMail } from "../../platform/mail/types.js";

/** How long each link works, in seconds (better-auth's options take seconds). */
export const SIGN_IN_LINK_EXPIRY = {
  magicLink: 15 * 60,
  verifyEmail: 24 * 60 * 60,
  passwordReset: 60 * 60,
} as const;

export type IdentityMailTag = "magic-link" | "verify-email" | "password-reset" | "invitation";

const IGNORE = "If you did not ask for this, ignore this mail: nothing changes until the link is opened.";

function duration(seconds: number): string {
  if (seconds % 3600 === 0) {
    const hours = seconds / 3600;
    return hours === 1 ? "1 hour" : `${hours} hours`;
  }
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

function mail(to: string, tag: IdentityMailTag, subject: string, lines: readonly string[]): OutgoingMail {
  return { to, tag, subject, text: `${lines.join("\n")}\n` };
}

export function magicLinkMail(to: string, url: string): OutgoingMail {
  return mail(to, "magic-link", "Your Sonde sign-in link", [
    "Open this link to sign in to Sonde:",
    "",
    url,
    "",
    `It works once and expires in ${duration(SIGN_IN_LINK_EXPIRY.magicLink)}.`,
    "",
    IGNORE,
  ]);
}

export function verifyEmailMail(to: string, url: string): OutgoingMail {
  return mail(to, "verify-email", "Confirm your email address for Sonde", [
    "Open this link to confirm your email address and sign in to Sonde:",
    "",
    url,
    "",
    `It expires in ${duration(SIGN_IN_LINK_EXPIRY.verifyEmail)}.`,
    "",
    IGNORE,
  ]);
}

/** Where a password-reset link lands: Sonde's page to choose the new password (api/auth/reset-page.ts). */
export const PASSWORD_RESET_PAGE_PATH = "/reset-password";

/** A link to one of Sonde's own pages carrying a link secret: `<public URL><path>?token=…`. */
function tokenLink(publicUrl: string, path: string, token: string): string {
  const url = new URL(path, publicUrl);
  url.searchParams.set("token", token);
  return url.toString();
}

export function passwordResetLink(publicUrl: string, token: string): string {
  return tokenLink(publicUrl, PASSWORD_RESET_PAGE_PATH, token);
}

export function passwordResetMail(to: string, url: string): OutgoingMail {
  return mail(to, "password-reset", "Reset your Sonde password", [
    "Open this link to choose a new password for Sonde:",
    "",
    url,
    "",
    `It works once and expires in ${duration(SIGN_IN_LINK_EXPIRY.passwordReset)}. Setting a new password signs you out everywhere.`,
    "",
    IGNORE,
  ]);
}

/** Where an invitation link lands: a small page that asks for a name and password, then accepts. */
export const INVITATION_PAGE_PATH = "/invitations/accept";

export function invitationMail(
  invitation: Readonly<Record<string, unknown>>,
  token: string,
  publicUrl: string,
): OutgoingMail {
  return mail(String(invitation.email), "invitation", "You are invited to Sonde", [
    `You have been invited to join a tenant on Sonde (${publicUrl}) as ${String(invitation.role)}.`,
    "",
    "Accept the invitation here (the link works once, for 7 days):",
    tokenLink(publicUrl, INVITATION_PAGE_PATH, token),
    "",
    "If you did not expect this invitation, ignore this mail.",
  ]);
}

/**
 * The mails of sign-in: a magic link, an address confirmation, a password reset. Plain text, short,
 * each with its link, how long the link works, and what to do when the mail was not asked for. The
 * links are built by better-auth from SONDE_PUBLIC_URL; they are secrets, so nothing here logs them.
 */
import type { OutgoingMail } from "../../platform/mail/types.js";

/** How long each link works, in seconds (better-auth's options take seconds). */
export const SIGN_IN_LINK_EXPIRY = {
  magicLink: 15 * 60,
  verifyEmail: 24 * 60 * 60,
  passwordReset: 60 * 60,
} as const;

export type SignInMailTag = "magic-link" | "verify-email" | "password-reset";

const IGNORE = "If you did not ask for this, ignore this mail: nothing changes until the link is opened.";

function duration(seconds: number): string {
  if (seconds % 3600 === 0) {
    const hours = seconds / 3600;
    return hours === 1 ? "1 hour" : `${hours} hours`;
  }
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

function mail(to: string, tag: SignInMailTag, subject: string, lines: readonly string[]): OutgoingMail {
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

export function passwordResetLink(publicUrl: string, token: string): string {
  const url = new URL(PASSWORD_RESET_PAGE_PATH, publicUrl);
  url.searchParams.set("token", token);
  return url.toString();
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

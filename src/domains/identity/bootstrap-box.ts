/**
 * The message that shows a generated first-run password. It goes to the terminal once (never to the
 * logger), so it has to stand out among JSON log lines: a box, with what to do next.
 */
export function passwordBox(email: string, password: string): string {
  const lines = [
    "Sonde first run: a super user was created.",
    "",
    `  email:    ${email}`,
    `  password: ${password}`,
    "",
    "Sign in with these (POST /api/auth/sign-in/email). This password is",
    "shown only now and is stored only as a hash: keep it somewhere safe.",
    "Set SONDE_ADMIN_PASSWORD before the first start to choose your own.",
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const rule = "─".repeat(width + 2);
  const body = lines.map((l) => `│ ${l.padEnd(width)} │`);
  return ["", `┌${rule}┐`, ...body, `└${rule}┘`, "", ""].join("\n");
}

/**
 * Whether SQL text holds more than one statement. A small lexer rather than a regular expression,
 * because pg-boss's schema script defines PL/pgSQL functions whose `$$ … $$` bodies are full of
 * semicolons, and string literals or comments may hold them too.
 */
export function hasSeveralStatements(text: string): boolean {
  let i = 0;
  let statementHasContent = false;
  let statements = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "-" && next === "-") {
      const end = text.indexOf("\n", i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === "/" && next === "*") {
      i = skipBlockComment(text, i);
      continue;
    }
    if (c === ";") {
      if (statementHasContent) statements += 1;
      statementHasContent = false;
      i += 1;
      continue;
    }
    if (c === undefined || /\s/.test(c)) {
      i += 1;
      continue;
    }
    if (!statementHasContent && statements >= 1) return true;
    statementHasContent = true;
    if (c === "'" || c === '"') {
      i = skipQuoted(text, i, c);
      continue;
    }
    if (c === "$") {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64));
      if (tag !== null) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
        continue;
      }
    }
    i += 1;
  }
  return false;
}

/** Skips '…' or "…" (a doubled quote escapes itself; in E'…' a backslash escapes too). */
function skipQuoted(text: string, start: number, quote: string): number {
  const escapes = quote === "'" && (text[start - 1] === "E" || text[start - 1] === "e");
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (escapes && c === "\\") {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return i;
}

/** Skips a block comment; PostgreSQL nests them. */
function skipBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === "/" && text[i + 1] === "*") {
      depth += 1;
      i += 2;
    } else if (text[i] === "*" && text[i + 1] === "/") {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return i;
}

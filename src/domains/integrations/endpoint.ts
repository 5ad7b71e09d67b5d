import { z } from "zod";

/**
 * A source's endpoint: an absolute http(s) URL without user info (it is shown to every viewer, so a
 * password in it would leak), query or fragment (client paths are appended to it). A path prefix is
 * kept; a trailing slash is dropped.
 */
export const endpointSchema = z
  .string()
  .trim()
  .max(2000)
  .superRefine((value, ctx) => {
    const problem = endpointProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform((value) => value.replace(/\/+$/, ""));

function endpointProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute http or https URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (url.username !== "" || url.password !== "") return "must not carry credentials: use `credentials`";
  if (url.search !== "" || url.hash !== "") return "must not have a query or fragment";
  return undefined;
}

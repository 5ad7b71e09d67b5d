import type { FastifyPluginAsync } from "fastify";
import { SONDE_VERSION } from "../../lib/version.js";

// Placeholder until the web UI lands: tells a new user the server is up and where to look.
const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sonde</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}
code{background:#f2f4f7;padding:.1rem .3rem;border-radius:4px}</style></head>
<body>
<h1>Sonde ${SONDE_VERSION}</h1>
<p>The control plane is running. The web console arrives in a later release.</p>
<ul>
<li><a href="/readyz"><code>/readyz</code></a>: database, bus and job queue readiness</li>
<li><a href="/metrics"><code>/metrics</code></a>: Prometheus metrics</li>
</ul>
</body></html>`;

export const homeRoutes: FastifyPluginAsync = async (app) => {
  app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").send(page));
};

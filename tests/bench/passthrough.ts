/**
 * The floor every Deno-based router is measured against: a bare proxy that does only what any
 * router must. `Deno.serve` reads the body, `JSON.parse`s it (a router has to look at the model
 * and `stream`), `fetch`es the upstream with the original bytes over a kept-alive connection, and
 * streams the upstream's body straight back, unbuffered, so SSE chunks flow as they arrive.
 *
 *   deno run --allow-net=127.0.0.1 tests/bench/passthrough.ts --upstream http://127.0.0.1:PORT [--port 0]
 *
 * Prints `listening on http://127.0.0.1:<port>` once it accepts connections.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "0" }, upstream: { type: "string" } },
});
if (!values.upstream) throw new Error("--upstream is required (the mock's origin)");
const upstream = values.upstream.replace(/\/$/, "");

Deno.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
}, async (req) => {
  const url = new URL(req.url);
  const body = req.method === "POST" ? await req.text() : undefined;
  if (body !== undefined) {
    try {
      JSON.parse(body); // part of the floor; the value itself is not needed
    } catch {
      return Response.json({ error: { message: "Invalid JSON" } }, { status: 400 });
    }
  }
  const reply = await fetch(upstream + url.pathname + url.search, {
    method: req.method,
    headers: { "content-type": "application/json" },
    body,
  });
  return new Response(reply.body, {
    status: reply.status,
    headers: { "content-type": reply.headers.get("content-type") ?? "application/json" },
  });
});

/**
 * The floor every Deno-based router is measured against: a bare proxy that does only what any
 * router must. `Deno.serve` reads the body, `JSON.parse`s it (a router has to look at the model
 * and `stream`), `fetch`es the upstream with the original bytes over a kept-alive connection, and
 * streams the upstream's body straight back, unbuffered, so SSE chunks flow as they arrive.
 *
 *   deno run --allow-net=127.0.0.1 tests/bench/passthrough.ts --upstream http://127.0.0.1:PORT [--port 0]
 *     [--client fetch|http1]
 *
 * `--client http1` sends upstream requests through Switchyard's own HTTP/1.1 client instead of
 * `fetch` (a JSON answer read whole, a stream forwarded read by read): the same floor, with the
 * client Switchyard uses. Prints `listening on http://127.0.0.1:<port>` once it accepts connections.
 */
import { parseArgs } from "node:util";
import { Http1Client } from "../../src/upstream/http1/client.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "0" },
    upstream: { type: "string" },
    client: { type: "string", default: "fetch" },
  },
});
if (!values.upstream) throw new Error("--upstream is required (the mock's origin)");
if (values.client !== "fetch" && values.client !== "http1") {
  throw new Error("--client is fetch or http1");
}
const upstream = values.upstream.replace(/\/$/, "");
const http1 = values.client === "http1" ? new Http1Client() : undefined;

/** The upstream call through Switchyard's client; the body goes back as it arrives. */
async function viaHttp1(
  client: Http1Client,
  method: string,
  url: string,
  body: string | undefined,
) {
  const reply = await client.request(url, {
    method,
    headers: { "content-type": "application/json" },
    body,
  });
  const type = reply.headers.get("content-type") ?? "application/json";
  const headers = { "content-type": type };
  if (!type.includes("event-stream") || !reply.body) {
    return new Response(await reply.text(), { status: reply.status, headers });
  }
  const reader = reply.body;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const bytes = await reader.read();
      if (bytes) controller.enqueue(bytes.slice()); // the view is reused by the next read
      else controller.close();
    },
    cancel: () => reader.cancel(),
  }, { highWaterMark: 0 });
  return new Response(stream, { status: reply.status, headers });
}

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
  if (http1) return await viaHttp1(http1, req.method, upstream + url.pathname + url.search, body);
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

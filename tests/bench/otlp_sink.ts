/**
 * A local OTLP/HTTP receiver for the tracing-on target: accepts `POST /v1/traces`, `/v1/metrics`
 * and `/v1/logs`, reads and discards the body, and answers an empty (valid) export response, so
 * exporting costs Switchyard what it costs against a real collector on the same host, minus the
 * collector's own work. `GET /stats` reports what arrived, so the benchmark can show tracing was
 * really on.
 *
 *   deno run --allow-net=127.0.0.1 tests/bench/otlp_sink.ts [--port 0]
 *
 * Prints `listening on http://127.0.0.1:<port>` once it accepts connections.
 */
import { parseArgs } from "node:util";

/** What the sink has received, per signal (`traces`, `metrics`, `logs`). */
export type SinkStats = Record<string, { exports: number; bytes: number }>;

/** The sink's handler and its running counts. */
export function createSink(): { handler: (req: Request) => Promise<Response>; stats: SinkStats } {
  const stats: SinkStats = {};
  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/stats") return Response.json(stats);
    const signal = /^\/v1\/(traces|metrics|logs)$/.exec(path)?.[1];
    if (req.method !== "POST" || !signal) return new Response("Not found", { status: 404 });
    const body = await req.arrayBuffer();
    const entry = stats[signal] ??= { exports: 0, bytes: 0 };
    entry.exports++;
    entry.bytes += body.byteLength;
    // An empty Export*ServiceResponse is a zero-length protobuf message (or `{}` in JSON).
    const json = req.headers.get("content-type")?.includes("json") ?? false;
    return new Response(json ? "{}" : new Uint8Array(0), {
      headers: { "content-type": json ? "application/json" : "application/x-protobuf" },
    });
  };
  return { handler, stats };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "0" } },
  });
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
  }, createSink().handler);
}

/**
 * The passthrough plus a chosen set of the duties any routing layer has, and nothing else: no
 * policy, no facts, no spend store. The ladder (`deno task bench:ladder`) starts one per rung,
 * each adding one duty, so the gap between the passthrough and Switchyard splits into what any
 * Deno router doing the same job pays (the rungs) and what is Switchyard's own (the rest).
 *
 *   deno run --allow-net=127.0.0.1 tests/bench/router_floor.ts --upstream http://127.0.0.1:PORT \
 *     [--duties read,parse,headers,abort,rewrite,observe] [--port 0]
 *
 * Prints `listening on http://127.0.0.1:<port>` once it accepts connections.
 */
import { parseArgs } from "node:util";

/** The duties, in the order the ladder adds them. */
export const DUTIES = ["read", "parse", "headers", "abort", "rewrite", "observe"] as const;
export type Duty = typeof DUTIES[number];

/** What each duty is, for the ladder's table and `--help`. */
export const DUTY_DESCRIPTIONS: Record<Duty, string> = {
  read: "read the upstream's JSON answer whole and answer with it (usage is at its end)",
  parse: "JSON.parse that answer (to find the usage a spend record needs)",
  headers: "the 8 response headers Switchyard adds (ids, policy, rule, route, via, …)",
  abort: "an AbortController per upstream call, following the client's request.signal",
  rewrite: "re-serialize the request with the route's model; accept and x-request-id upstream",
  observe: "streams pass through JS: each upstream read decoded and re-encoded, not piped",
};

/** The response headers Switchyard sends on every chat answer, with typical values. */
export function routingHeaders(requestId: string, contentType: string): Record<string, string> {
  return {
    "content-type": contentType,
    "x-request-id": requestId,
    "x-switchyard-trace-id": crypto.randomUUID().replaceAll("-", ""),
    "x-switchyard-policy": "bench@1 sha256:0123456789ab",
    "x-switchyard-rule": "(default)",
    "x-switchyard-route": "bench",
    "x-switchyard-via": "direct",
    "x-switchyard-attempts": "1",
    "x-switchyard-overhead-ms": "0.10",
  };
}

/** Parses `--duties a,b`; throws on an unknown duty. */
export function parseDuties(list: string | undefined): Set<Duty> {
  const duties = new Set<Duty>();
  for (const item of (list ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(DUTIES as readonly string[]).includes(item)) {
      throw new Error(`Unknown duty \`${item}\`; known: ${DUTIES.join(", ")}`);
    }
    duties.add(item as Duty);
  }
  return duties;
}

const encoder = new TextEncoder();

/** Forwards a stream through JS, one upstream read per client write, as a router that reads it. */
function observed(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      // As text, the form in which a router finds usage and the terminator, then bytes again.
      controller.enqueue(encoder.encode(decoder.decode(value, { stream: true })));
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** The request handler for one set of duties. */
export function createFloorHandler(
  upstreamOrigin: string,
  duties: Set<Duty>,
): (request: Request) => Promise<Response> {
  const upstream = upstreamOrigin.replace(/\/$/, "") + "/v1/chat/completions";
  return async (request) => {
    const text = await request.text();
    let body: { model?: unknown; stream?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      return Response.json({ error: { message: "Invalid JSON" } }, { status: 400 });
    }
    const requestId = duties.has("headers") || duties.has("rewrite")
      ? request.headers.get("x-request-id") ?? crypto.randomUUID()
      : "";
    let signal: AbortSignal | undefined;
    let onClientGone: (() => void) | undefined;
    if (duties.has("abort")) {
      const controller = new AbortController();
      signal = controller.signal;
      onClientGone = () => controller.abort();
      request.signal.addEventListener("abort", onClientGone, { once: true });
    }
    const upstreamHeaders: Record<string, string> = { "content-type": "application/json" };
    let sent = text;
    if (duties.has("rewrite")) {
      sent = JSON.stringify({ ...body, model: "bench-model" });
      upstreamHeaders.accept = body.stream === true ? "text/event-stream" : "application/json";
      upstreamHeaders["x-request-id"] = requestId;
    }
    try {
      const reply = await fetch(upstream, {
        method: "POST",
        headers: upstreamHeaders,
        body: sent,
        signal,
      });
      const contentType = reply.headers.get("content-type") ?? "application/json";
      const headers = duties.has("headers")
        ? routingHeaders(requestId, contentType)
        : { "content-type": contentType };
      const streamed = contentType.startsWith("text/event-stream");
      if (streamed) {
        const out = duties.has("observe") && reply.body ? observed(reply.body) : reply.body;
        return new Response(out, { status: reply.status, headers });
      }
      if (!duties.has("read")) return new Response(reply.body, { status: reply.status, headers });
      const answer = await reply.text();
      if (duties.has("parse")) JSON.parse(answer);
      return new Response(answer, { status: reply.status, headers });
    } finally {
      if (onClientGone) request.signal.removeEventListener("abort", onClientGone);
    }
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "0" },
      upstream: { type: "string" },
      duties: { type: "string", default: "" },
    },
  });
  if (!values.upstream) throw new Error("--upstream is required (the mock's origin)");
  const handler = createFloorHandler(values.upstream, parseDuties(values.duties));
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
  }, handler);
}

/**
 * The load benchmark's upstream: a fast OpenAI-compatible mock. `POST /v1/chat/completions`
 * answers a `chat.completion`, or with `"stream": true` an SSE stream in OpenAI's chunk format
 * (role, `--chunks` content chunks, finish, a usage chunk, `[DONE]`); `GET /health` answers "ok".
 * No think time by default, so every target's figure minus the direct one is the target's own.
 *
 *   deno run --allow-net=127.0.0.1 tests/bench/mock.ts [--port 0] [--chunks 20] [--delay-ms 0]
 *
 * Prints `listening on http://127.0.0.1:<port>` once it accepts connections.
 */
import { parseArgs } from "node:util";
import { setImmediate } from "node:timers";

/** How the mock answers. */
export interface MockOptions {
  /** Content chunks per stream. */
  chunks: number;
  /** Think time before the answer starts, ms (0: none). */
  delayMs: number;
}

const encoder = new TextEncoder();
const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

/**
 * One event-loop turn (~5 µs). Each chunk waits for one so it leaves in its own write, as a real
 * provider's tokens do; a `setTimeout(0)` would cost ~1–2 ms per chunk in Deno.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let sequence = 0;

/** The `chat.completion` for a non-streaming request. */
function completion(model: string, promptTokens: number): string {
  return JSON.stringify({
    id: `chatcmpl-mock${(++sequence).toString(36)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Hello! This is a mock completion.", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: { prompt_tokens: promptTokens, completion_tokens: 8, total_tokens: promptTokens + 8 },
    system_fingerprint: "fp_mock",
  });
}

/** The SSE events of one streamed answer, each a whole `data: …\n\n`. */
function* streamEvents(
  model: string,
  promptTokens: number,
  includeUsage: boolean,
  chunks: number,
): Generator<string> {
  const head =
    `{"id":"chatcmpl-mock${(++sequence).toString(36)}","object":"chat.completion.chunk",` +
    `"created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},` +
    `"system_fingerprint":"fp_mock","choices":`;
  const tail = includeUsage ? `,"usage":null}` : "}";
  const choice = (delta: string, finish: string) =>
    `data: ${head}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]${tail}\n\n`;
  yield choice(`{"role":"assistant","content":"","refusal":null}`, "null");
  for (let i = 0; i < chunks; i++) yield choice(`{"content":"tok${i} "}`, "null");
  yield choice("{}", `"stop"`);
  const usage = { prompt_tokens: promptTokens, completion_tokens: chunks, total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  yield `data: ${head}[],"usage":${JSON.stringify(usage)}}\n\n`;
  yield "data: [DONE]\n\n";
}

function sseBody(events: Generator<string>): ReadableStream<Uint8Array> {
  let first = true;
  return new ReadableStream({
    async pull(controller) {
      if (!first) await nextTurn();
      first = false;
      const next = events.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
  });
}

/** The mock's request handler. */
export function createMockHandler(options: MockOptions): (req: Request) => Promise<Response> {
  return async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/health") return new Response("ok");
    if (req.method !== "POST" || !path.endsWith("/chat/completions")) {
      return Response.json({ error: { message: `No route ${req.method} ${path}` } }, {
        status: 404,
      });
    }
    let body: { model?: unknown; messages?: unknown; stream?: unknown; stream_options?: unknown };
    try {
      body = await req.json();
    } catch {
      return Response.json({ error: { message: "Invalid JSON" } }, { status: 400 });
    }
    const model = typeof body.model === "string" ? body.model : "bench-model";
    const promptTokens = Array.isArray(body.messages) ? body.messages.length * 8 : 8;
    if (options.delayMs > 0) await sleep(options.delayMs);
    if (body.stream === true) {
      const includeUsage =
        (body.stream_options as { include_usage?: unknown } | null)?.include_usage === true;
      return new Response(
        sseBody(streamEvents(model, promptTokens, includeUsage, options.chunks)),
        { headers: SSE_HEADERS },
      );
    }
    return new Response(completion(model, promptTokens), { headers: JSON_HEADERS });
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "0" },
      chunks: { type: "string", default: "20" },
      "delay-ms": { type: "string", default: "0" },
    },
  });
  const handler = createMockHandler({
    chunks: Number(values.chunks),
    delayMs: Number(values["delay-ms"]),
  });
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
  }, handler);
}

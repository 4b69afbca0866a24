/**
 * The Anthropic simulator's failure shapes: error envelopes with `request-id`, and each engine
 * fault mode rendered the way the real API (or the network in front of it) fails.
 */
import { encodeSse } from "../../upstream/sse.ts";
import type { FaultSpec } from "../engine.ts";
import { never, RESET_CONNECTION } from "../server.ts";
import { CUT, SSE_HEADERS, streamBody } from "../stream_body.ts";
import type { AnthropicEvent } from "./render.ts";

const OVERLOADED = { type: "overloaded_error", message: "Overloaded" };

/** An id in Anthropic's style (`msg_01…`, `req_01…`). */
export function newId(prefix: string): string {
  return `${prefix}_01${crypto.randomUUID().replaceAll("-", "").slice(0, 22)}`;
}

/** An error envelope, `{"type":"error","error":{type,message},"request_id"}`. */
export function errorResponse(
  status: number,
  error: { type: string; message: string },
  headers: Record<string, string> = {},
): Response {
  const requestId = newId("req");
  return new Response(JSON.stringify({ type: "error", error, request_id: requestId }), {
    status,
    headers: { "content-type": "application/json", "request-id": requestId, ...headers },
  });
}

/** A 400 `invalid_request_error`. */
export function invalid(message: string): Response {
  return errorResponse(400, { type: "invalid_request_error", message });
}

/**
 * The answer for faults that replace the whole response (statuses, silence, resets, bad bodies),
 * or undefined when the fault happens inside an otherwise normal answer.
 */
export function replacingFault(
  fault: FaultSpec,
  streaming: boolean,
  rand: () => number,
  signal: AbortSignal,
): Response | typeof RESET_CONNECTION | Promise<typeof RESET_CONNECTION> | undefined {
  switch (fault.mode) {
    case "error":
      return rand() < 0.5
        ? errorResponse(529, OVERLOADED)
        : errorResponse(500, { type: "api_error", message: "Internal server error" });
    case "rate_limit": {
      const seconds = fault.retry_after_s ?? 1;
      const message =
        "This request would exceed the rate limit for your organization of 50 requests per minute.";
      return errorResponse(429, { type: "rate_limit_error", message }, {
        "retry-after": String(seconds),
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": new Date(Date.now() + seconds * 1000).toISOString(),
      });
    }
    case "timeout":
      return never(signal);
    case "reset":
      return RESET_CONNECTION;
    case "sse_error":
      // Without a stream to break, the overload shows as the 529 it would have caused.
      return streaming ? undefined : errorResponse(529, OVERLOADED);
    case "malformed":
      return streaming
        ? new Response("event: message_start\ndata: <html>upstream error</html>\n\n", {
          headers: SSE_HEADERS,
        })
        : new Response("<html><body>502 Bad Gateway</body></html>", {
          headers: { "content-type": "text/html" },
        });
    case "error_in_200": {
      const error = JSON.stringify({ type: "error", error: OVERLOADED, request_id: newId("req") });
      return streaming
        ? new Response(`event: error\ndata: ${error}\n\n`, { headers: SSE_HEADERS })
        : new Response(error, { headers: { "content-type": "application/json" } });
    }
  }
  return undefined;
}

/** A JSON body cut or stalled halfway: a non-streaming answer under a mid-stream fault. */
export function brokenBody(text: string, fault: FaultSpec, signal: AbortSignal): ReadableStream {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode(text.slice(0, text.length >> 1)));
      if (fault.mode === "mid_stream_cut") {
        return controller.error(new Error("simulated connection cut"));
      }
      await never(signal);
      controller.close();
    },
  });
}

function isContent(event: AnthropicEvent): boolean {
  const delta = event.delta as { text?: string; partial_json?: string } | undefined;
  return event.type === "content_block_delta" && Boolean(delta?.text || delta?.partial_json);
}

/**
 * Serializes events as SSE. A mid-stream fault (`mid_stream_cut`, `mid_stream_stall`,
 * `sse_error`) fires after `after_chunks` content deltas, or before `message_delta` when the
 * answer is shorter, so a faulted stream never completes.
 */
export function sseResponse(
  events: AsyncGenerator<AnthropicEvent>,
  fault: FaultSpec | undefined,
  signal: AbortSignal,
  headers: Record<string, string>,
): Response {
  const midStream = fault?.mode === "mid_stream_cut" || fault?.mode === "mid_stream_stall" ||
    fault?.mode === "sse_error";
  const after = fault?.after_chunks ?? 2;
  async function* bytes(): AsyncGenerator<Uint8Array | typeof CUT> {
    let deltas = 0;
    try {
      for await (const event of events) {
        if (midStream && (deltas >= after || event.type === "message_delta")) {
          if (fault.mode === "mid_stream_cut") yield CUT;
          else if (fault.mode === "mid_stream_stall") await never(signal);
          else yield encodeSse(JSON.stringify({ type: "error", error: OVERLOADED }), "error");
          return;
        }
        if (isContent(event)) deltas++;
        yield encodeSse(JSON.stringify(event), event.type);
      }
    } finally {
      await events.return(undefined);
    }
  }
  return new Response(streamBody(bytes()), { headers: { ...headers, ...SSE_HEADERS } });
}

/**
 * One upstream attempt: build the provider request, `fetch` it with the route's first-byte and
 * total timeouts, and translate the reply. Streams are read until the first generated content
 * (or a clean end) before the attempt counts as successful, so that anything failing earlier can
 * still fall back to another route without the client seeing a byte; after that, the stream is
 * handed over with an idle timeout between events.
 */
import type { Completion, StreamEvent } from "../upstream/adapter.ts";
import { UpstreamError } from "../upstream/errors.ts";
import { SseDecoder, type SseEvent } from "../upstream/sse.ts";
import { HttpConnectionError } from "../upstream/http1/connection.ts";
import { HttpProtocolError } from "../upstream/http1/head.ts";
import type { UpstreamClient, UpstreamResponse } from "../upstream/transport.ts";
import type { ChatRequest } from "../upstream/types.ts";
import type { RouteRuntime } from "./runtime.ts";
import { deadlines } from "./deadlines.ts";
import { REQUESTED_MODEL } from "../policy/types.ts";

/** Everything an attempt needs besides the route. */
export interface AttemptInput {
  request: ChatRequest;
  /** The client's body text, when `request` is exactly what it parsed to (see Adapter.request). */
  rawBody?: string;
  stream: boolean;
  /** Extra headers for the upstream (`x-request-id`; the transport adds `traceparent`). */
  headers: Record<string, string>;
  /** Sends the request (Switchyard's HTTP/1.1 client, or fetch). */
  client: UpstreamClient;
  /** Aborts when the client goes away or the request's own deadline passes. */
  signal: AbortSignal;
  /** Absolute time (ms since epoch) by which the whole request must end. */
  deadline: number;
}

/** A stream that has produced content and is ready to be forwarded. */
export interface UpstreamStream {
  /** Events read before the commit point (role chunk, the first content chunk, …). */
  buffered: StreamEvent[];
  /**
   * The events of the next upstream read (never empty), or `undefined` after the end. Throws
   * `UpstreamError` on a cut or timeout.
   */
  next(): Promise<StreamEvent[] | undefined>;
  /** Stops reading and aborts the upstream request. */
  abort(reason?: UpstreamError): void;
  /** Milliseconds from the attempt's start to the first content chunk. */
  ttftMs: number;
}

export type AttemptResult =
  | { ok: true; completion: Completion; status: number; waitMs: number }
  | { ok: true; stream: UpstreamStream; status: number; waitMs: number }
  | { ok: false; error: UpstreamError; waitMs: number };

const timeoutError = (kind: "timeout_first_byte" | "timeout_total" | "timeout_idle", ms: number) =>
  new UpstreamError(
    kind,
    `No ${kind === "timeout_idle" ? "stream event" : "response"} within ${ms} ms (${kind})`,
  );

/** Runs one attempt against one route. Never throws: failures are values. */
export async function attempt(runtime: RouteRuntime, input: AttemptInput): Promise<AttemptResult> {
  const started = performance.now();
  const { route, adapter } = runtime;
  // A `$request` route passes on the model the client named (a gateway serving many models).
  const target = route.model === REQUESTED_MODEL
    ? { ...runtime.target, model: input.request.model }
    : runtime.target;
  const controller = new AbortController();
  const abort = (reason: UpstreamError) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onClientAbort = () => abort(new UpstreamError("aborted", "The client went away"));
  if (input.signal.aborted) onClientAbort();
  input.signal.addEventListener("abort", onClientAbort, { once: true });
  const totalMs = Math.max(1, Math.min(route.timeouts.totalMs, input.deadline - Date.now()));
  const firstByteMs = route.timeouts.firstByteMs;
  const idleMs = route.timeouts.idleMs;
  // One deadline serves every timeout of the attempt: it always sits at the earliest that
  // applies — first byte, then (streaming) the idle gap after the latest event — capped by the
  // total; when it fires, the phase tells which one passed.
  let phase: "first_byte" | "body" | "stream" = "first_byte";
  const onDeadline = () => {
    const elapsedMs = performance.now() - started;
    if (elapsedMs >= totalMs - 1) return abort(timeoutError("timeout_total", totalMs));
    if (phase === "first_byte") return abort(timeoutError("timeout_first_byte", firstByteMs));
    abort(timeoutError("timeout_idle", idleMs));
  };
  const deadline = deadlines.add(started + Math.min(firstByteMs, totalMs), onDeadline);
  /** Moves to the next phase (or, streaming, restarts the idle gap at an event). */
  const progress = (next: "body" | "stream") => {
    phase = next;
    deadline.at = next === "body"
      ? started + totalMs
      : Math.min(started + totalMs, performance.now() + idleMs);
  };
  const cleanup = () => {
    deadlines.remove(deadline);
    input.signal.removeEventListener("abort", onClientAbort);
  };
  const failure = (thrown: unknown): AttemptResult => {
    cleanup();
    const error = asUpstreamError(thrown, controller.signal);
    abort(error); // releases the connection if a body is still open
    return { ok: false, error, waitMs: elapsed() };
  };
  const elapsed = () => performance.now() - started;

  let response: UpstreamResponse;
  try {
    const upstream = adapter.request(input.request, target, { includeUsage: true }, input.rawBody);
    upstream.headers = { ...upstream.headers, ...input.headers };
    response = await input.client.send(upstream.url, {
      headers: upstream.headers,
      body: upstream.body,
      signal: controller.signal,
    });
  } catch (error) {
    return failure(error);
  }

  // Non-streaming: headers arrive with the whole answer; the total timeout governs the body.
  if (!input.stream || !response.ok) progress("body");
  if (!response.ok) {
    let text = "";
    try {
      text = await response.text();
    } catch (error) {
      return failure(error);
    }
    return failure(adapter.error(response.status, text, response.headers));
  }

  if (!input.stream) {
    try {
      const text = await response.text();
      const completion = adapter.response(text, target);
      cleanup();
      return { ok: true, completion, status: response.status, waitMs: elapsed() };
    } catch (error) {
      return failure(error);
    }
  }

  const body = response.body;
  if (!body) return failure(new UpstreamError("malformed", "A stream without a body"));
  // The body is read as it arrives and translated with plain calls: every upstream read yields
  // the events it completed, as one batch, with no stream stage per event.
  const decoder = new SseDecoder();
  const translator = adapter.translator(target, { includeUsage: true });
  let bodyEnded = false;
  const readBatch = async (): Promise<StreamEvent[] | undefined> => {
    const batch: StreamEvent[] = [];
    const emit = (out: StreamEvent) => batch.push(out);
    const onEvent = (event: SseEvent) => translator.push(event, emit);
    while (!bodyEnded) {
      const bytes = await body.read();
      if (!bytes) {
        bodyEnded = true;
        decoder.end(onEvent);
        translator.end(emit);
      } else {
        // The decoder copies what it needs (into a string), so the view may be reused.
        decoder.push(bytes, onEvent);
      }
      if (batch.length > 0) return batch;
    }
    return undefined;
  };

  // Before the commit point the first-byte deadline still applies; read until content or end.
  const buffered: StreamEvent[] = [];
  try {
    let committed = false;
    while (!committed) {
      const batch = await readBatch();
      if (!batch) {
        return failure(new UpstreamError("stream_cut", "The stream ended before any content"));
      }
      for (const event of batch) {
        if (!committed && event.type === "error") return failure(event.error);
        buffered.push(event);
        if (event.type === "done" || (event.type === "chunk" && event.content)) committed = true;
      }
    }
  } catch (error) {
    return failure(error);
  }
  progress("stream");
  const ttftMs = elapsed();
  const ends = (events: StreamEvent[]) => events.some((e) => e.type !== "chunk");
  let finished = ends(buffered);
  if (finished) {
    cleanup(); // the whole answer came at once: nothing more to read
    body.release();
  }

  const stream: UpstreamStream = {
    buffered,
    ttftMs,
    async next() {
      if (finished) return undefined;
      try {
        const batch = await readBatch();
        if (!batch) {
          finished = true;
          cleanup();
          throw new UpstreamError("stream_cut", "The stream ended without its terminator");
        }
        if (ends(batch)) {
          finished = true;
          cleanup();
          body.release();
        } else progress("stream");
        return batch;
      } catch (error) {
        finished = true;
        cleanup();
        throw asUpstreamError(error, controller.signal);
      }
    },
    abort(reason) {
      finished = true;
      cleanup();
      abort(reason ?? new UpstreamError("aborted", "The client went away"));
      body.cancel();
    },
  };
  return { ok: true, stream, status: response.status, waitMs: elapsed() };
}

/** Maps whatever a fetch or read threw to an UpstreamError, preferring our own abort reason. */
function asUpstreamError(error: unknown, signal: AbortSignal): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (signal.aborted && signal.reason instanceof UpstreamError) return signal.reason;
  if (error instanceof HttpProtocolError) {
    return new UpstreamError("malformed", `The upstream broke HTTP/1.1: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof HttpConnectionError) {
    return error.phase === "body"
      ? new UpstreamError("stream_cut", `The upstream connection broke: ${error.message}`, {
        cause: error,
      })
      : new UpstreamError("connection", `Cannot reach the upstream: ${error.message}`, {
        cause: error,
      });
  }
  const message = error instanceof Error ? error.message : String(error);
  // A body that broke off mid-way (reset after headers) versus no connection at all.
  if (error instanceof TypeError && /body|reading|decod/i.test(message)) {
    return new UpstreamError("stream_cut", `The upstream connection broke: ${message}`, {
      cause: error,
    });
  }
  return new UpstreamError("connection", `Cannot reach the upstream: ${message}`, {
    cause: error,
  });
}

/**
 * The client's side of a streamed answer: OpenAI SSE chunks as they arrive from the upstream
 * (never batched), the usage chunk withheld when the client did not ask for it, and `data: [DONE]`
 * only after a complete answer. A failure after bytes reached the client ends the stream with an
 * OpenAI-shaped error event and no `[DONE]`, so a cut answer cannot pass for a whole one.
 */
import type { StreamEvent } from "../upstream/adapter.ts";
import { UpstreamError } from "../upstream/errors.ts";
import { SSE_DONE } from "../upstream/sse.ts";
import type { NormalizedUsage } from "../upstream/types.ts";
import type { UpstreamStream } from "../routing/attempt.ts";

/** How a forwarded stream ended. */
export interface StreamSummary {
  ok: boolean;
  error?: UpstreamError;
  usage?: NormalizedUsage;
  finishReasons: string[];
  responseId?: string;
  responseModel?: string;
  servedBy?: string;
  /** Content chunks forwarded (for estimating output when no usage arrived). */
  contentChunks: number;
  /** Characters of content forwarded, for the same estimate. */
  contentChars: number;
  /** The streamed text, only when asked for (content capture). */
  text?: string;
}

const encoder = new TextEncoder();

/** The error event that ends a broken stream, in OpenAI's error shape. */
export function streamErrorEvent(error: UpstreamError): Uint8Array {
  const body = {
    error: {
      message: `The upstream stream failed after the response started: ${error.message}`,
      type: "server_error",
      param: null,
      code: `upstream_${error.kind}`,
    },
  };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/** Crude count of content characters in an OpenAI chunk's JSON, without parsing it. */
function contentLength(data: string): number {
  const i = data.indexOf('"content":"');
  if (i < 0) return 0;
  const end = data.indexOf('"', i + 11);
  return end < 0 ? 0 : end - (i + 11);
}

/**
 * Forwards an upstream stream to the client as bytes. `onEnd` is called exactly once, and — when
 * the stream ends on its own, whole or broken — awaited before the final bytes (`[DONE]` or the
 * error event) go out, so whatever it records (spend) is stored before the client sees the end.
 */
export function clientStream(
  upstream: UpstreamStream,
  options: {
    includeUsage: boolean;
    /** Keep the streamed text (for opt-in content capture): parses every content chunk. */
    keepText?: boolean;
    onEnd: (summary: StreamSummary) => Promise<void> | void;
  },
): ReadableStream<Uint8Array> {
  const summary: StreamSummary = {
    ok: false,
    finishReasons: [],
    contentChunks: 0,
    contentChars: 0,
  };
  let ended = false;
  const end = async (ok: boolean, error?: UpstreamError) => {
    if (ended) return;
    ended = true;
    summary.ok = ok;
    if (error) summary.error = error;
    await options.onEnd(summary);
  };
  const observe = (event: Extract<StreamEvent, { type: "chunk" }>) => {
    if (event.usage) summary.usage = event.usage;
    if (event.finishReason) summary.finishReasons.push(event.finishReason);
    if (event.responseId) summary.responseId ??= event.responseId;
    if (event.responseModel) summary.responseModel ??= event.responseModel;
    if (event.servedBy) summary.servedBy ??= event.servedBy;
    if (event.content) {
      summary.contentChunks++;
      summary.contentChars += contentLength(event.data);
      if (options.keepText) {
        const delta = JSON.parse(event.data).choices?.[0]?.delta?.content;
        if (typeof delta === "string") summary.text = (summary.text ?? "") + delta;
      }
    }
  };
  /** Ends the stream: records first, then the last bytes, then close. */
  const finish = async (
    controller: ReadableStreamDefaultController<Uint8Array>,
    error?: UpstreamError,
  ) => {
    if (error) upstream.abort(error);
    await end(error === undefined, error);
    try {
      controller.enqueue(error ? streamErrorEvent(error) : SSE_DONE);
      controller.close();
    } catch {
      // The client is already gone.
    }
  };

  let pending: StreamEvent[] | undefined = upstream.buffered;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Each pull forwards one upstream read, in one write: whatever arrived together goes out
        // together, and nothing waits for more. A read of only withheld chunks reads on.
        for (;;) {
          const batch = pending ?? await upstream.next();
          pending = undefined;
          if (batch === undefined) {
            return await finish(
              controller,
              new UpstreamError("stream_cut", "The stream ended without its terminator"),
            );
          }
          let out = "";
          for (const event of batch) {
            if (event.type === "chunk") {
              observe(event);
              if (!event.usageOnly || options.includeUsage) out += `data: ${event.data}\n\n`;
              continue;
            }
            if (out) controller.enqueue(encoder.encode(out));
            return await finish(controller, event.type === "error" ? event.error : undefined);
          }
          if (out) {
            controller.enqueue(encoder.encode(out));
            return;
          }
        }
      } catch (error) {
        await finish(
          controller,
          error instanceof UpstreamError ? error : new UpstreamError("stream_cut", String(error)),
        );
      }
    },
    cancel() {
      const error = new UpstreamError("aborted", "The client went away");
      upstream.abort(error);
      void end(false, error);
    },
  }, { highWaterMark: 0 });
}

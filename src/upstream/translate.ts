/** A `StreamTranslator` as a Web TransformStream, for adapters' `stream()`. */
import type { StreamEvent, StreamTranslator } from "./adapter.ts";
import type { SseEvent } from "./sse.ts";

/** Wraps a translator: each event in is pushed through it; the end flushes it. */
export function translatorStream(
  translator: StreamTranslator,
): TransformStream<SseEvent, StreamEvent> {
  return new TransformStream<SseEvent, StreamEvent>({
    transform(event, controller) {
      translator.push(event, (out) => controller.enqueue(out));
    },
    flush(controller) {
      translator.end((out) => controller.enqueue(out));
    },
  });
}

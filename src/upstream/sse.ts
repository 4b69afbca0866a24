/**
 * Server-sent events, both ways, as Web streams. The parser follows the WHATWG event-stream rules
 * (fields, multi-line data, comments, CR/LF/CRLF line ends) and never buffers more than one event.
 */

/** One parsed event. `comment` events carry SSE comment lines (`: keep-alive`). */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
  comment?: string;
}

/** Bytes → events. Comments are emitted as `{comment, data: ""}` so callers can see keep-alives. */
export class SseParser extends TransformStream<Uint8Array, SseEvent> {
  constructor() {
    const decoder = new TextDecoder();
    let buffer = "";
    let data: string[] = [];
    let event: string | undefined;
    let id: string | undefined;
    const dispatchLine = (
      line: string,
      controller: TransformStreamDefaultController<SseEvent>,
    ) => {
      if (line === "") {
        if (data.length > 0) {
          controller.enqueue({ event, data: data.join("\n"), id });
        }
        data = [];
        event = undefined;
        return;
      }
      if (line.startsWith(":")) {
        controller.enqueue({ data: "", comment: line.slice(1).trimStart() });
        return;
      }
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id") id = value;
    };
    const drain = (controller: TransformStreamDefaultController<SseEvent>, final: boolean) => {
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c === 10 || c === 13) {
          // A CR at the very end may be the first half of a CRLF split across chunks.
          if (c === 13 && i === buffer.length - 1 && !final) break;
          dispatchLine(buffer.slice(start, i), controller);
          if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
          start = i + 1;
        }
      }
      buffer = buffer.slice(start);
    };
    super({
      transform(chunk, controller) {
        buffer += decoder.decode(chunk, { stream: true });
        drain(controller, false);
      },
      flush(controller) {
        buffer += decoder.decode();
        drain(controller, true);
        if (buffer.length > 0) dispatchLine(buffer, controller);
        buffer = "";
        // A final event without its blank line is still an event (lenient, as browsers are not).
        dispatchLine("", controller);
      },
    });
  }
}

const encoder = new TextEncoder();

/** Encodes one `data:` event (with an optional `event:` name) as bytes. */
export function encodeSse(data: string, event?: string): Uint8Array {
  return encoder.encode(
    event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`,
  );
}

/** The OpenAI stream terminator. */
export const SSE_DONE: Uint8Array = encoder.encode("data: [DONE]\n\n");

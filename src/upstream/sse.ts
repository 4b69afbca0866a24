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

/**
 * Bytes → events, as plain calls: feed each chunk read from a body to `push`, then call `end`.
 * Comments are emitted as `{comment, data: ""}` so callers can see keep-alives. Used directly on
 * the request path (no stream hand-off per event) and wrapped by `SseParser`.
 */
export class SseDecoder {
  #decoder = new TextDecoder();
  #buffer = "";
  #data: string[] = [];
  #event: string | undefined;
  #id: string | undefined;

  /** Decodes a chunk of bytes and emits every event it completes. */
  push(chunk: Uint8Array, emit: (event: SseEvent) => void): void {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    this.#drain(emit, false);
  }

  /** The body ended: a final event without its blank line is still an event (lenient). */
  end(emit: (event: SseEvent) => void): void {
    this.#buffer += this.#decoder.decode();
    this.#drain(emit, true);
    if (this.#buffer.length > 0) this.#line(this.#buffer, emit);
    this.#buffer = "";
    this.#line("", emit);
  }

  #line(line: string, emit: (event: SseEvent) => void): void {
    if (line === "") {
      if (this.#data.length > 0) {
        emit({ event: this.#event, data: this.#data.join("\n"), id: this.#id });
      }
      this.#data = [];
      this.#event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      emit({ data: "", comment: line.slice(1).trimStart() });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id") this.#id = value;
  }

  #drain(emit: (event: SseEvent) => void, final: boolean): void {
    const buffer = this.#buffer;
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c === 10 || c === 13) {
        // A CR at the very end may be the first half of a CRLF split across chunks.
        if (c === 13 && i === buffer.length - 1 && !final) break;
        this.#line(buffer.slice(start, i), emit);
        if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
        start = i + 1;
      }
    }
    this.#buffer = start === 0 ? buffer : buffer.slice(start);
  }
}

/** Bytes → events, as a TransformStream (see `SseDecoder`). */
export class SseParser extends TransformStream<Uint8Array, SseEvent> {
  constructor() {
    const decoder = new SseDecoder();
    super({
      transform(chunk, controller) {
        decoder.push(chunk, (event) => controller.enqueue(event));
      },
      flush(controller) {
        decoder.end((event) => controller.enqueue(event));
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

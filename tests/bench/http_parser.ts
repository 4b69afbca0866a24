/**
 * An incremental HTTP/1.1 response parser for the load generator's raw TCP client: status line,
 * headers, then a `Content-Length`, chunked, or read-to-close body. It keeps only what the
 * benchmark needs: the status, when the first body byte, the first generated content and the end
 * arrived, and the body's last bytes.
 */

const CR = 13;
const LF = 10;
const TAIL = 32;
/** `"content":"`: what precedes the text of a chunk's delta (or a completion's message). */
const CONTENT = new TextEncoder().encode('"content":"');
const QUOTE = 34;

type State = "head" | "length" | "size" | "data" | "data-end" | "trailer" | "close" | "done";

/** Feeds the bytes of one response in as they arrive; `done` once it is complete. */
export class HttpResponseParser {
  status = 0;
  keepAlive = true;
  /** `performance.now()` of the read that carried the first body byte; NaN while none has. */
  firstBodyByteAt = NaN;
  endedAt = NaN;
  /**
   * `performance.now()` of the read that carried the first non-empty `"content":"…"` (in a stream,
   * the first chunk with generated text: a role chunk's empty content does not count); NaN while
   * none has.
   */
  firstContentAt = NaN;
  /** The body's last bytes (latin-1), enough to see `data: [DONE]`. */
  tail = "";
  /** The last body bytes while no content was seen, so a marker split across reads is found. */
  #carry = new Uint8Array(0);

  #state: State = "head";
  /** Head bytes of earlier reads, while the head is incomplete. */
  #pending = new Uint8Array(0);
  #remaining = 0;
  #line = "";
  #lineLength = 0;

  get done(): boolean {
    return this.#state === "done";
  }

  /** True when the response had no length and ends when the server closes the connection. */
  endsAtClose(): boolean {
    if (this.#state !== "close") return false;
    this.#state = "done";
    this.endedAt = performance.now();
    return true;
  }

  feed(bytes: Uint8Array, now: number): void {
    let i = 0;
    while (i < bytes.length && this.#state !== "done") {
      switch (this.#state) {
        case "head":
          i = this.#readHead(bytes, i);
          break;
        case "length":
        case "data":
        case "close": {
          const take = this.#state === "close"
            ? bytes.length - i
            : Math.min(this.#remaining, bytes.length - i);
          this.#body(bytes, i, i + take, now);
          i += take;
          this.#remaining -= take;
          if (this.#state === "length" && this.#remaining === 0) this.#state = "done";
          else if (this.#state === "data" && this.#remaining === 0) this.#state = "data-end";
          break;
        }
        case "data-end":
          // The CRLF after a chunk's data.
          if (bytes[i++] === LF) this.#state = "size";
          break;
        case "size": {
          const c = bytes[i++];
          if (c === LF) {
            const size = parseInt(this.#line, 16);
            if (Number.isNaN(size)) throw new Error(`Bad chunk size line: ${this.#line}`);
            this.#line = "";
            this.#remaining = size;
            this.#state = size === 0 ? "trailer" : "data";
            this.#lineLength = 0;
          } else if (c !== CR) {
            this.#line += String.fromCharCode(c);
          }
          break;
        }
        case "trailer": {
          // Trailer lines until an empty one.
          const c = bytes[i++];
          if (c === LF) {
            if (this.#lineLength === 0) this.#state = "done";
            this.#lineLength = 0;
          } else if (c !== CR) {
            this.#lineLength++;
          }
          break;
        }
      }
    }
    if (this.#state === "done" && Number.isNaN(this.endedAt)) this.endedAt = now;
  }

  /** Finds the blank line that ends the head; returns where the body starts in `bytes`. */
  #readHead(bytes: Uint8Array, start: number): number {
    const pending = this.#pending;
    const data = pending.length === 0
      ? bytes.subarray(start)
      : Uint8Array.from([...pending, ...bytes.subarray(start)]);
    for (let i = 3; i < data.length; i++) {
      if (data[i] === LF && data[i - 1] === CR && data[i - 2] === LF && data[i - 3] === CR) {
        this.#pending = new Uint8Array(0);
        this.#parseHead(String.fromCharCode(...data.subarray(0, i + 1)).toLowerCase());
        return start + i + 1 - pending.length;
      }
    }
    this.#pending = data.slice();
    return bytes.length;
  }

  #parseHead(head: string): void {
    this.status = Number(head.slice(9, 12));
    this.keepAlive = !/\r\nconnection:\s*close/.test(head);
    const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
    if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
      this.#state = "size";
    } else if (length) {
      this.#remaining = Number(length[1]);
      this.#state = this.#remaining === 0 ? "done" : "length";
    } else {
      this.#state = "close";
      this.keepAlive = false;
    }
  }

  #body(bytes: Uint8Array, from: number, to: number, now: number): void {
    if (to <= from) return;
    if (Number.isNaN(this.firstBodyByteAt)) this.firstBodyByteAt = now;
    if (Number.isNaN(this.firstContentAt)) this.#watchContent(bytes.subarray(from, to), now);
    this.tail = (this.tail + String.fromCharCode(...bytes.subarray(Math.max(from, to - TAIL), to)))
      .slice(-TAIL);
  }

  #watchContent(body: Uint8Array, now: number): void {
    const data = this.#carry.length === 0 ? body : Uint8Array.from([...this.#carry, ...body]);
    const last = data.length - CONTENT.length - 1;
    search: for (let i = 0; i <= last; i++) {
      for (let j = 0; j < CONTENT.length; j++) if (data[i + j] !== CONTENT[j]) continue search;
      if (data[i + CONTENT.length] !== QUOTE) {
        this.firstContentAt = now;
        this.#carry = new Uint8Array(0);
        return;
      }
    }
    this.#carry = data.slice(Math.max(0, data.length - CONTENT.length));
  }
}

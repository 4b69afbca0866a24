/**
 * One kept-alive HTTP/1.1 connection to an upstream: a socket and the buffer every read of it
 * lands in. It writes a request, reads the response head, then hands out the body as views of
 * that buffer — one per socket read, with the chunked framing removed in place — so a response
 * costs a write, a read per network packet batch, and no per-read allocation.
 */
import { ChunkedDecoder } from "./chunked.ts";
import {
  type BodyFraming,
  HttpProtocolError,
  parseResponseHead,
  type ResponseHead,
} from "./head.ts";

/** A socket failed or closed; `phase` says how far the exchange got. */
export class HttpConnectionError extends Error {
  override name = "HttpConnectionError";
  constructor(
    message: string,
    /**
     * `unanswered`: the request was not (wholly) written or not a byte of a response came back.
     * On a reused connection that is one the server closed while idle: the client sends again.
     */
    readonly phase: "connect" | "unanswered" | "head" | "body",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A read buffer's starting size; a head larger than this grows it, up to MAX_HEAD_BYTES. */
const BUFFER_BYTES = 16 * 1024;
/** Response heads past this are refused (fetch's limit is similar). */
export const MAX_HEAD_BYTES = 64 * 1024;

/** How long a released body may take to end before its connection is dropped instead. */
const RELEASE_DRAIN_MS = 2_000;

const headDecoder = new TextDecoder();

export class Http1Connection {
  readonly socket: Deno.Conn;
  /** Requests written on this connection, the current one included. */
  uses = 0;
  /** `performance.now()` when it last went idle. */
  idleSince = 0;
  closed = false;
  #buffer = new Uint8Array(BUFFER_BYTES);
  /** Bytes read past the head (the body's start), `buffer[pendingStart, pendingEnd)`. */
  #pendingStart = 0;
  #pendingEnd = 0;

  constructor(socket: Deno.Conn) {
    this.socket = socket;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // already closed by the peer
    }
  }

  /** Writes a request: all of `bytes` (a socket write may take only part). */
  async write(bytes: Uint8Array): Promise<void> {
    this.uses++;
    let written = 0;
    try {
      while (written < bytes.length) {
        written += await this.socket.write(written === 0 ? bytes : bytes.subarray(written));
      }
    } catch (error) {
      throw new HttpConnectionError(
        `Writing the request failed: ${messageOf(error)}`,
        "unanswered", // not wholly written: the server cannot have taken the request
        { cause: error },
      );
    }
  }

  /** Reads up to the end of the response head, skipping 1xx interim responses. */
  async readHead(): Promise<ResponseHead> {
    let filled = 0;
    let scanned = 0;
    let received = false;
    while (true) {
      const end = headEnd(this.#buffer, Math.max(0, scanned - 3), filled);
      if (end < 0) {
        scanned = filled;
        if (filled === this.#buffer.length) {
          if (filled >= MAX_HEAD_BYTES) {
            throw new HttpProtocolError(`Response head larger than ${MAX_HEAD_BYTES} bytes`);
          }
          const larger = new Uint8Array(MAX_HEAD_BYTES);
          larger.set(this.#buffer);
          this.#buffer = larger;
        }
        const n = await this.#read(this.#buffer.subarray(filled), received ? "head" : "unanswered");
        if (n === null) {
          throw new HttpConnectionError(
            "The upstream closed the connection before a response",
            received ? "head" : "unanswered",
          );
        }
        received = true;
        filled += n;
        continue;
      }
      const head = parseResponseHead(headDecoder.decode(this.#buffer.subarray(0, end)));
      const bodyStart = end + 4;
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        // An interim response (100 Continue, 103 Early Hints): drop it and read on.
        this.#buffer.copyWithin(0, bodyStart, filled);
        filled -= bodyStart;
        scanned = 0;
        continue;
      }
      this.#pendingStart = bodyStart;
      this.#pendingEnd = filled;
      return head;
    }
  }

  /** A reader of the body that follows the head just read. */
  body(framing: BodyFraming, onEnd: (reusable: boolean) => void): BodyReader {
    return new BodyReader(this, framing, onEnd);
  }

  /** @internal The next body bytes: what followed the head, else one socket read. */
  async nextBytes(): Promise<{ start: number; end: number } | null> {
    if (this.#pendingStart < this.#pendingEnd) {
      const range = { start: this.#pendingStart, end: this.#pendingEnd };
      this.#pendingStart = this.#pendingEnd = 0;
      return range;
    }
    const n = await this.#read(this.#buffer, "body");
    return n === null ? null : { start: 0, end: n };
  }

  /** @internal */
  get buffer(): Uint8Array {
    return this.#buffer;
  }

  async #read(into: Uint8Array, phase: "unanswered" | "head" | "body"): Promise<number | null> {
    try {
      return await this.socket.read(into);
    } catch (error) {
      throw new HttpConnectionError(
        `Reading the response failed: ${messageOf(error)}`,
        phase,
        { cause: error },
      );
    }
  }
}

/**
 * A response body, read as views of the connection's buffer. A view stays valid until the next
 * `read()`; the last one is a copy, because the connection goes back to the pool with it.
 */
export class BodyReader {
  readonly #connection: Http1Connection;
  readonly #framing: BodyFraming;
  readonly #onEnd: (reusable: boolean) => void;
  #remaining: number;
  #chunked: ChunkedDecoder | undefined;
  #ended = false;
  #reusable = true;

  constructor(
    connection: Http1Connection,
    framing: BodyFraming,
    onEnd: (reusable: boolean) => void,
  ) {
    this.#connection = connection;
    this.#framing = framing;
    this.#onEnd = onEnd;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    if (framing.kind === "chunked") this.#chunked = new ChunkedDecoder();
    if (framing.kind === "none") this.#end();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The next bytes of the body, or `undefined` at its end. Throws HttpConnectionError on a cut. */
  async read(): Promise<Uint8Array | undefined> {
    while (!this.#ended) {
      let range;
      try {
        range = await this.#connection.nextBytes();
      } catch (error) {
        this.cancel(); // the connection is done for
        throw error;
      }
      if (this.#ended) return undefined; // cancelled while reading
      if (range === null) {
        if (this.#framing.kind === "close") {
          this.#reusable = false;
          this.#end();
          return undefined;
        }
        this.cancel();
        throw new HttpConnectionError("The upstream closed the connection mid-body", "body");
      }
      const buffer = this.#connection.buffer;
      let { start, end } = range;
      let complete = false;
      if (this.#framing.kind === "length") {
        const available = end - start;
        if (available > this.#remaining) this.#reusable = false; // bytes past the body
        const take = Math.min(available, this.#remaining);
        end = start + take;
        this.#remaining -= take;
        complete = this.#remaining === 0;
      } else if (this.#chunked) {
        const decoded = this.#chunked.decode(buffer, start, end);
        end = decoded.end;
        if (decoded.extra > 0) this.#reusable = false;
        complete = this.#chunked.done;
      }
      if (complete) {
        const last = end > start ? buffer.slice(start, end) : undefined;
        this.#end();
        return last;
      }
      if (end > start) return buffer.subarray(start, end);
    }
    return undefined;
  }

  /**
   * The caller needs nothing more (a stream's terminal event arrived): the rest — usually just
   * the chunked terminator, a packet behind — is read in the background so the connection can
   * serve again; if it takes longer than RELEASE_DRAIN_MS, the connection is dropped instead.
   */
  release(): void {
    if (this.#ended) return;
    const timer = setTimeout(() => this.cancel(), RELEASE_DRAIN_MS);
    (async () => {
      try {
        while (await this.read() !== undefined) { /* discard */ }
      } catch {
        this.cancel();
      } finally {
        clearTimeout(timer);
      }
    })();
  }

  /** Stops reading: the connection cannot be reused unless the body had already ended. */
  cancel(): void {
    if (this.#ended) return;
    this.#reusable = false;
    this.#end();
  }

  #end(): void {
    this.#ended = true;
    this.#onEnd(this.#reusable);
  }
}

/** Index of the CRLFCRLF that ends a head within `buffer[from, to)`, or -1. */
function headEnd(buffer: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (
      buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10
    ) return i;
  }
  return -1;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

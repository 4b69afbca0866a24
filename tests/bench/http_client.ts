/**
 * The load generator's two HTTP clients behind one interface: a raw HTTP/1.1 client over one
 * kept-alive TCP connection (the default), and `fetch` (Deno's pooled client), kept so the choice
 * can be re-measured with `--client fetch`.
 *
 * Why raw TCP by default: measured against the mock alone (`--targets direct --seconds 2`, three
 * runs alternating the two clients, 2026-11-25 on this 2-core machine), fetch's own cost swamps
 * the sub-millisecond figures the benchmark exists to compare, and caps throughput below what
 * the passthrough alone can serve:
 *
 *   | direct, client          | 1000/s p50 | 1000/s p99  | max req/s (32 conns) | stream TTFB p50 |
 *   | raw TCP (3 runs)        | 40–52 µs   | 0.5–1.8 ms  | 61k–75k              | 40–155 µs       |
 *   | fetch (3 runs)          | 218–228 µs | 4.4–9.2 ms  | 8.2k–9.1k            | 391–425 µs      |
 *
 * The raw client reads the status line and headers, then a `Content-Length`, chunked, or
 * read-to-close body, and times the first *body* byte (headers alone do not count: a router may
 * send them before the first token).
 */
import { HttpResponseParser } from "./http_parser.ts";

/** One request's outcome; times are `performance.now()` ms. */
export interface Exchange {
  status: number;
  /** When the request was written. */
  sent: number;
  /** When the first body byte arrived (NaN for an empty body). */
  firstByte: number;
  /** When the first generated content arrived (NaN when none did); see HttpResponseParser. */
  firstContent: number;
  /** When the whole response had arrived. */
  end: number;
  /** The last bytes of the body, to check that a stream ended with `data: [DONE]`. */
  tail: string;
}

/** A client with one request in flight at a time. */
export interface Client {
  exchange(): Promise<Exchange>;
  close(): void;
}

/** Opens a client for one kind of request (non-streaming or streaming) to one target. */
export type ClientFactory = () => Promise<Client>;

/** Which client the load generator uses. */
export type ClientKind = "tcp" | "fetch";

/** A target's chat completions endpoint and the request body to send it. */
export interface Endpoint {
  port: number;
  path: string;
  body: string;
}

const encoder = new TextEncoder();

/** A raw HTTP/1.1 client on one kept-alive connection; reconnects if the server closes it. */
class TcpClient implements Client {
  #conn: Deno.TcpConn | undefined;
  readonly #request: Uint8Array;
  readonly #buffer = new Uint8Array(64 * 1024);

  constructor(readonly endpoint: Endpoint) {
    this.#request = encoder.encode(
      `POST ${endpoint.path} HTTP/1.1\r\nhost: 127.0.0.1:${endpoint.port}\r\n` +
        `content-type: application/json\r\naccept: */*\r\n` +
        `content-length: ${encoder.encode(endpoint.body).length}\r\n\r\n${endpoint.body}`,
    );
  }

  async connect(): Promise<void> {
    this.#conn = await Deno.connect({ hostname: "127.0.0.1", port: this.endpoint.port });
    this.#conn.setNoDelay(true);
  }

  async exchange(): Promise<Exchange> {
    if (!this.#conn) await this.connect();
    const conn = this.#conn!;
    const sent = performance.now();
    for (let written = 0; written < this.#request.length;) {
      written += await conn.write(this.#request.subarray(written));
    }
    const parser = new HttpResponseParser();
    while (!parser.done) {
      const n = await conn.read(this.#buffer);
      const now = performance.now();
      if (n === null) {
        this.close();
        if (parser.endsAtClose()) break;
        throw new Error("The connection closed before the response ended");
      }
      parser.feed(this.#buffer.subarray(0, n), now);
    }
    if (!parser.keepAlive) this.close();
    return {
      status: parser.status,
      sent,
      firstByte: parser.firstBodyByteAt,
      firstContent: parser.firstContentAt,
      end: parser.endedAt,
      tail: parser.tail,
    };
  }

  close(): void {
    try {
      this.#conn?.close();
    } catch {
      // Already closed by the peer.
    }
    this.#conn = undefined;
  }
}

/** `fetch` with Deno's connection pool (keep-alive); one request at a time per client. */
class FetchClient implements Client {
  readonly #url: string;
  readonly #decoder = new TextDecoder();

  constructor(readonly endpoint: Endpoint) {
    this.#url = `http://127.0.0.1:${endpoint.port}${endpoint.path}`;
  }

  async exchange(): Promise<Exchange> {
    const sent = performance.now();
    const res = await fetch(this.#url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: this.endpoint.body,
    });
    let firstByte = NaN;
    let tail = "";
    // The same watch for generated content as the raw client's, over the body text.
    let text = "";
    let firstContent = NaN;
    if (res.body) {
      for await (const chunk of res.body) {
        if (chunk.length === 0) continue;
        const now = performance.now();
        if (Number.isNaN(firstByte)) firstByte = now;
        if (Number.isNaN(firstContent)) {
          text += this.#decoder.decode(chunk, { stream: true });
          if (/"content":"[^"]/.test(text)) firstContent = now;
        }
        tail = (tail + new TextDecoder().decode(chunk.subarray(Math.max(0, chunk.length - 32))))
          .slice(-32);
      }
    }
    return { status: res.status, sent, firstByte, firstContent, end: performance.now(), tail };
  }

  close(): void {
    // The pool owns the connections.
  }
}

/** A factory of connected clients of `kind` for `endpoint`. */
export function clientFactory(kind: ClientKind, endpoint: Endpoint): ClientFactory {
  return async () => {
    if (kind === "fetch") return new FetchClient(endpoint);
    const client = new TcpClient(endpoint);
    await client.connect();
    return client;
  };
}

/** True when a streamed body ended with OpenAI's terminator. */
export function endedWithDone(exchange: Exchange): boolean {
  return /data: \[DONE\]\s*$/.test(exchange.tail);
}

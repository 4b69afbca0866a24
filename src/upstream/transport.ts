/**
 * How upstream requests go out: Switchyard's own HTTP/1.1 client (http1/client.ts, the default)
 * or Deno's `fetch`. Both answer through one small interface, so an attempt reads a body the same
 * way from either. `fetch` stays for what the own client does not do: an HTTP proxy taken from
 * `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`, and whoever wants Deno's stack
 * (`--upstream-client fetch`).
 */
import { Http1Client, type OriginConnections } from "./http1/client.ts";
import { telemetryActive } from "../telemetry/active.ts";
import { traceHttpRequest } from "../telemetry/http_span.ts";

/** Which client sends upstream requests. `auto`: http1 unless a proxy is configured. */
export type UpstreamClientKind = "auto" | "http1" | "fetch";

/** A response body, read as it arrives. */
export interface UpstreamBody {
  /**
   * The next bytes, or `undefined` at the end. A view may be reused by the next read, so copy
   * what must outlive it.
   */
  read(): Promise<Uint8Array | undefined>;
  /** Stops reading; the connection is dropped. */
  cancel(): void;
  /**
   * The caller needs nothing more (the stream's terminal event arrived): whatever remains is
   * read in the background, bounded in time, so the connection can serve again.
   */
  release(): void;
}

export interface UpstreamResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  text(): Promise<string>;
  body: UpstreamBody | null;
}

export interface UpstreamSendInit {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** Sends POST requests to upstreams. */
export interface UpstreamClient {
  readonly kind: "http1" | "fetch";
  send(url: string, init: UpstreamSendInit): Promise<UpstreamResponse>;
  /** Closes pooled connections (at shutdown). */
  close(): void;
  /** Open connections per origin (the own client only; `fetch` does not tell). */
  connections?(): OriginConnections[];
}

/** Environment variables that make `fetch` go through a proxy (Deno reads both cases). */
export const PROXY_ENV = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/** The client for a configured kind; `auto` picks `fetch` only when a proxy is set. */
export function createUpstreamClient(
  kind: UpstreamClientKind,
  env: (name: string) => string | undefined,
): UpstreamClient {
  const proxied = PROXY_ENV.some((name) => (env(name) ?? "") !== "");
  if (kind === "fetch" || (kind === "auto" && proxied)) return fetchClient();
  return http1Client(new Http1Client());
}

export function http1Client(client: Http1Client): UpstreamClient {
  return {
    kind: "http1",
    send(url, init) {
      const { body, signal } = init;
      if (!telemetryActive()) {
        return client.request(url, { method: "POST", headers: init.headers, body, signal });
      }
      // Deno traces fetch itself; this client's requests get their span here.
      return traceHttpRequest(
        client.destination(url),
        init.headers,
        (headers) => client.request(url, { method: "POST", headers, body, signal }),
      );
    },
    close: () => client.close(),
    connections: () => client.connections(),
  };
}

/** Size of the buffer a fetch body is read into (an SSE read is rarely over a few KiB). */
const READ_BUFFER_BYTES = 16 * 1024;

export function fetchClient(): UpstreamClient {
  return {
    kind: "fetch",
    async send(url, init) {
      const response = await fetch(url, {
        method: "POST",
        headers: init.headers,
        body: init.body,
        signal: init.signal,
      });
      return {
        status: response.status,
        ok: response.ok,
        headers: response.headers,
        text: () => response.text(),
        body: response.body ? fetchBody(response.body) : null,
      };
    },
    close() {},
  };
}

/**
 * A BYOB reader into one buffer reused for every read: the default reader allocates a fresh
 * 64 KiB chunk per read, which made young-generation GC the largest cost of a stream.
 */
function fetchBody(stream: ReadableStream<Uint8Array>): UpstreamBody {
  // Reader and buffer come with the first read, not before: most answers are read with text().
  let reader: ReadableStreamBYOBReader | undefined;
  let buffer: Uint8Array<ArrayBuffer> | undefined;
  return {
    async read() {
      reader ??= stream.getReader({ mode: "byob" });
      buffer ??= new Uint8Array(READ_BUFFER_BYTES);
      const { done, value } = await reader.read(buffer);
      if (done || !value) return undefined;
      buffer = new Uint8Array(value.buffer);
      return value;
    },
    cancel() {
      (reader ?? stream).cancel().catch(() => {});
    },
    release() {
      // Deno's client pools the connection once the body ends; leaving it unread is what
      // Switchyard always did with fetch.
    },
  };
}

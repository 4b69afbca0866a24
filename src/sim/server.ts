/**
 * Runs a simulator handler as a real HTTP server on loopback.
 *
 * A handler is Web-standard (Request → Response) plus one extra answer, `RESET_CONNECTION`, which
 * drops the TCP connection before any response bytes, as a crashed or overloaded upstream does.
 * Deno.serve always sends headers before a body can fail, so connection resets need a server that
 * exposes its socket: this module hides that choice (node:http) from the simulators.
 *
 * Three more behaviours simulators rely on:
 * - a response body is written chunk by chunk as the handler enqueues it (SSE pacing is real);
 * - a response body stream that errors drops the connection mid-body (a cut stream: the client's
 *   body read fails, no terminating chunk);
 * - the `signal` passed to the handler aborts when the client disconnects or the server closes,
 *   so a handler that never answers (`timeout`) or stalls mid-stream can stop waiting.
 *
 * @example
 * ```ts
 * await using sim = await startSimulator(createOpenAISimulator, { latency: { ttft_ms: 5 } });
 * const reply = await fetch(`${sim.origin}/v1/models`);
 * ```
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { type Context, context } from "@opentelemetry/api";
import { PrefixCache, random, type SimulatorOptions } from "./engine.ts";
import { endServerSpan, startServerSpan } from "./tracing.ts";

/** Returned by a handler to make the server drop the connection without answering. */
export const RESET_CONNECTION: unique symbol = Symbol("reset-connection");

/**
 * The live state a provider simulator reads on every request. `options` is replaced by
 * `configure()`, so handlers must read it per request, not capture it.
 */
export interface SimState {
  options: SimulatorOptions;
  readonly cache: PrefixCache;
  /** Seeded dice for jitter and fault rates. */
  readonly rand: () => number;
}

/** Builds a provider simulator's handler over the shared state. */
export type SimFactory = (state: SimState) => SimHandler;

/** What a provider simulator implements. */
export interface SimHandler {
  (
    request: Request,
    signal: AbortSignal,
  ): Response | typeof RESET_CONNECTION | Promise<Response | typeof RESET_CONNECTION>;
}

/** A request the simulator saw, kept for tests (headers only; bodies may hold prompts). */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** A running simulator. */
export interface RunningSimulator extends AsyncDisposable {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** Replaces the simulator's options at run time (latency, faults). */
  configure(options: SimulatorOptions): void;
  /** The last requests seen (most recent last, at most 100). */
  readonly seen: SeenRequest[];
  /** Connections accepted so far (tests check that clients keep theirs alive). */
  readonly connections: number;
  /** The state handlers read (options, prompt cache, dice). */
  readonly state: SimState;
  close(): Promise<void>;
}

const SEEN_LIMIT = 100;

/** Starts `factory`'s handler on loopback (port 0 unless given) and resolves once it listens. */
export async function startSimulator(
  factory: SimFactory,
  options: SimulatorOptions,
  listen: { hostname?: string; port?: number } = {},
): Promise<RunningSimulator> {
  const state: SimState = {
    options,
    cache: new PrefixCache(),
    rand: random(options.seed ?? (Math.random() * 2 ** 32) >>> 0),
  };
  const handler = factory(state);
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const closing = new AbortController();
  const hostname = listen.hostname ?? "127.0.0.1";

  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: headerRecord(req) });
    if (seen.length > SEEN_LIMIT) seen.shift();
    // Deno's own server span is active only in this synchronous callback: capture its context.
    const incoming = context.active();
    serveOne(handler, req, res, hostname, closing.signal, incoming).catch(() =>
      req.socket.destroy()
    );
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    connections++;
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port ?? 0, hostname, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : listen.port ?? 0;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      closing.abort();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };
  return {
    origin: `http://${host}:${port}`,
    seen,
    get connections() {
      return connections;
    },
    state,
    configure(next) {
      state.options = next;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Runs one request through the handler and writes its answer to the socket. */
async function serveOne(
  handler: SimHandler,
  req: IncomingMessage,
  res: ServerResponse,
  hostname: string,
  closing: AbortSignal,
  incoming: Context,
): Promise<void> {
  const aborted = new AbortController();
  const onClosing = () => aborted.abort();
  closing.addEventListener("abort", onClosing, { once: true });
  // `close` on the response before it finished means the client went away.
  res.on("close", () => {
    closing.removeEventListener("abort", onClosing);
    if (!res.writableFinished) aborted.abort();
  });
  const request = await toRequest(req, hostname);
  const traced = context.with(
    incoming,
    () => startServerSpan(request.method, new URL(request.url).pathname, request.headers),
  );
  let status: number | "reset" = "reset";
  try {
    status = await respond(handler, request, req, res, aborted, traced?.context);
  } finally {
    endServerSpan(traced?.span, status);
  }
}

/** Calls the handler (inside the request's trace context) and writes its answer. */
async function respond(
  handler: SimHandler,
  request: Request,
  req: IncomingMessage,
  res: ServerResponse,
  aborted: AbortController,
  traceContext: ReturnType<typeof context.active> | undefined,
): Promise<number | "reset"> {
  let answer: Response | typeof RESET_CONNECTION;
  try {
    answer = traceContext
      ? await context.with(traceContext, () => handler(request, aborted.signal))
      : await handler(request, aborted.signal);
  } catch (error) {
    answer = new Response(JSON.stringify({ error: { message: String(error) } }), {
      status: 500,
      headers: { "content-type": "application/json" },
    });
  }
  if (answer === RESET_CONNECTION || aborted.signal.aborted) {
    req.socket.destroy();
    return "reset";
  }
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => headers[name] = value);
  res.writeHead(answer.status, answer.statusText || undefined, headers);
  if (!answer.body) {
    res.end();
    return answer.status;
  }
  // Headers go out now, not with the first body chunk: a stalled stream still has its 200.
  res.flushHeaders();
  const reader = answer.body.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  aborted.signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (aborted.signal.aborted) return answer.status;
      if (!res.write(value)) await drained(res, aborted.signal);
    }
    res.end();
    return answer.status;
  } catch {
    // The body failed (a simulated cut): drop the connection without the final chunk.
    req.socket.destroy();
    return "reset";
  } finally {
    aborted.signal.removeEventListener("abort", onAbort);
  }
}

/** Converts node's request into a Web `Request` (the body is read whole: prompts are small). */
async function toRequest(req: IncomingMessage, hostname: string): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const method = req.method ?? "GET";
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const parts: Uint8Array[] = [];
    for await (const part of req) parts.push(part as Uint8Array);
    body = concat(parts);
  }
  const host = headers.get("host") ?? hostname;
  return new Request(`http://${host}${req.url ?? "/"}`, { method, headers, body });
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * True when the simulator needs no key (`options.apiKey` unset) or the request carries it in
 * `header` (a `Bearer ` prefix is ignored) or, for providers that accept it, the `query` param.
 */
export function isAuthorized(
  request: Request,
  expected: string | undefined,
  where: { header: string; query?: string },
): boolean {
  if (!expected) return true;
  const raw = request.headers.get(where.header);
  const presented = raw?.replace(/^Bearer\s+/i, "") ??
    (where.query ? new URL(request.url).searchParams.get(where.query) : null);
  return presented === expected;
}

/** Resolves with `RESET_CONNECTION` once the client gives up: a request that is never answered. */
export function never(signal: AbortSignal): Promise<typeof RESET_CONNECTION> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(RESET_CONNECTION);
    signal.addEventListener("abort", () => resolve(RESET_CONNECTION), { once: true });
  });
}

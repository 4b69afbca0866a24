/**
 * Runs a simulator handler as a real HTTP server on loopback.
 *
 * A handler is Web-standard (Request → Response) plus one extra answer, `RESET_CONNECTION`, which
 * drops the TCP connection before any response bytes, as a crashed or overloaded upstream does.
 * Deno.serve always sends headers before a body can fail, so connection resets need a server that
 * exposes its socket: this module hides that choice from the simulators.
 */
import type { PrefixCache, SimulatorOptions } from "./engine.ts";

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
  close(): Promise<void>;
}

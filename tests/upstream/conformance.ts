/**
 * The adapter conformance suite: one set of cases every provider adapter and its simulator pass
 * (as Hono runs one router suite against every router). A provider's test file is one line:
 *
 * ```ts
 * import { runConformance } from "./conformance.ts";
 * runConformance({
 *   name: "openai",
 *   adapter: openaiAdapter,
 *   simulator: createOpenAISimulator,
 *   baseUrlPath: "/v1",
 *   model: "gpt-4o-mini",
 * });
 * ```
 *
 * Each case starts the simulator on loopback (port 0, ~2ms latency), builds the upstream request
 * with `adapter.request()`, sends it with a real `fetch`, and reads the reply through
 * `adapter.response()`, `SseParser` + `adapter.stream()` or `adapter.error()`. The suite only
 * uses the `Adapter` interface: nothing here knows a provider's name or wire format.
 *
 * What the suite expects of a simulator: it honours `SimulatorOptions` (latency, `fault`,
 * `apiKey` checked in the provider's own auth header), plans answers with `engine.plan()` (so a
 * text answer echoes the last user message and the same request gets the same answer), and
 * answers with the model the request named.
 */
import type { Adapter, UpstreamTarget } from "../../src/upstream/adapter.ts";
import type { SimFactory } from "../../src/sim/server.ts";
import type { SimulatorOptions } from "../../src/sim/engine.ts";
import { registerChatCases } from "./conformance_chat.ts";
import { registerFaultCases } from "./conformance_faults.ts";
import { registerContractCases } from "./conformance_contract.ts";

/** A simulator that needs others running first (a gateway and the providers behind it). */
export interface SimFixture extends AsyncDisposable {
  factory: SimFactory;
}

/** One adapter + simulator pair to run the suite against. */
export interface ConformanceSpec {
  /** Prefixes every test name, e.g. `openai`. */
  name: string;
  adapter: Adapter;
  /** The simulator, or a fixture that first starts what the simulator needs (a gateway's providers). */
  simulator: SimFactory | { start(): Promise<SimFixture> };
  /** Appended to the simulator's origin to form `target.baseUrl`, e.g. `/v1`, `/api/v1`, `""`. */
  baseUrlPath: string;
  /** The model id the target names (e.g. `gpt-4o-mini`, `openai/gpt-4o-mini`). */
  model: string;
  /** Extra target fields (`gateway`, `app`). */
  target?: Partial<Pick<UpstreamTarget, "gateway" | "app" | "route">>;
  /** Image inputs are accepted (default true). */
  images?: boolean;
  /** A repeated long prefix is reported as cached input tokens (default true). */
  promptCaching?: boolean;
}

/** The key every suite simulator demands; the `auth` case sends another one. */
export const CONFORMANCE_KEY = "conformance-key";

/** Options the suite starts simulators with: fast, deterministic, keyed. */
export const CONFORMANCE_OPTIONS: SimulatorOptions = {
  latency: { ttft_ms: 2, tokens_per_s: 4000, jitter: 0 },
  apiKey: CONFORMANCE_KEY,
  seed: 7,
};

/** Registers the whole suite as `Deno.test` cases named `<name> conformance: …`. */
export function runConformance(spec: ConformanceSpec): void {
  registerContractCases(spec);
  registerChatCases(spec);
  registerFaultCases(spec);
}

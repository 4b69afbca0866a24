/**
 * The provider-independent core of the simulated upstreams: what to answer (a deterministic
 * generation plan), when (a latency profile: time to first token, tokens per second, jitter) and
 * how to misbehave (fault modes). Each provider simulator (openai.ts, anthropic.ts, gemini.ts,
 * openrouter.ts) parses its own wire format into a `SimInput`, asks for a plan, and renders the
 * plan in its own wire format, paced by `pace()`.
 */
import { estimateTokens } from "../facts/tokens.ts";
import { hash32, random } from "../seeded.ts";
import type { LatencyProfile } from "./providers.ts";

/** Ways a simulator can misbehave, each seen from real providers. */
export const FAULT_MODES = [
  "none",
  /** HTTP 500 (or the provider's overloaded status). */
  "error",
  /** HTTP 429 with `Retry-After`. */
  "rate_limit",
  /** Accepts the request and never answers. */
  "timeout",
  /** Drops the connection before any response. */
  "reset",
  /** Streams `after_chunks` events, then drops the connection. */
  "mid_stream_cut",
  /** Streams `after_chunks` events, then goes silent without closing. */
  "mid_stream_stall",
  /** 200 with a body that is not the provider's format. */
  "malformed",
  /** 200 whose JSON body is an error object (as OpenRouter sends some failures). */
  "error_in_200",
  /** A stream that sends `after_chunks` events, then an SSE error event. */
  "sse_error",
  /** 400 saying the prompt exceeds the context window. */
  "context_length",
] as const;
export type FaultMode = typeof FAULT_MODES[number];

/** A fault to inject, on a share of requests. */
export interface FaultSpec {
  mode: FaultMode;
  /** Share of requests affected, 0..1. Default 1. */
  rate?: number;
  /** For mid-stream faults: content events sent before the fault. Default 2. */
  after_chunks?: number;
  /** For `rate_limit`: the `Retry-After` seconds. Default 1. */
  retry_after_s?: number;
}

/** A simulator's settings. Per-model entries override the defaults for requests naming that model. */
export interface SimulatorOptions {
  latency?: Partial<LatencyProfile>;
  fault?: FaultSpec;
  models?: Record<string, { latency?: Partial<LatencyProfile>; fault?: FaultSpec }>;
  /** When set, requests must carry this key in the provider's auth header. */
  apiKey?: string;
  /** Seeds the jitter and fault dice, for reproducible runs. */
  seed?: number;
  /** Upper bound of generated output tokens when the request sets no limit. Default 48. */
  defaultOutputTokens?: number;
}

export const DEFAULT_LATENCY: LatencyProfile = { ttft_ms: 250, tokens_per_s: 80, jitter: 0.2 };

/** What a simulator understood from a request, independent of the wire format. */
export interface SimInput {
  model: string;
  /** Every prompt text (system, messages, tool results) concatenated, for token counting. */
  promptText: string;
  /** The last user message's text, echoed into the answer so tests can tell answers apart. */
  lastUserText: string;
  /** Number of image inputs. */
  images: number;
  maxTokens?: number;
  tools: { name: string; parameters?: Record<string, unknown> }[];
  /** `auto` unless the request forces or forbids a tool. */
  toolChoice: "auto" | "none" | "required" | { name: string };
  /** The conversation ends with a tool result: answer in text. */
  afterToolResult: boolean;
  /** Key for simulated prompt caching: everything but the last message. */
  prefixKey?: string;
  prefixText?: string;
}

/** What the simulated model will say. */
export interface Plan {
  /** Text pieces, one per simulated token; empty for a tool call. */
  tokens: string[];
  toolCall?: { id: string; name: string; arguments: string };
  finish: "stop" | "length" | "tool_calls";
  usage: { input: number; output: number; cached: number };
}

const WORDS = (
  "switchyard routes every request by policy direct calls save a hop while the gateway adds breadth " +
  "latency budget and health decide which provider answers this simulated reply is deterministic"
).split(" ");

export { hash32, random } from "../seeded.ts";

/** Builds example arguments that satisfy a JSON Schema's required properties. */
function exampleArguments(schema: Record<string, unknown> | undefined, seed: string): string {
  const properties = (schema?.properties ?? {}) as Record<
    string,
    { type?: string; enum?: unknown[] }
  >;
  const args: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(properties)) {
    if (prop.enum && prop.enum.length > 0) args[name] = prop.enum[0];
    else if (prop.type === "number" || prop.type === "integer") {
      args[name] = hash32(seed + name) % 100;
    } else if (prop.type === "boolean") args[name] = true;
    else if (prop.type === "array") args[name] = [];
    else if (prop.type === "object") args[name] = {};
    else args[name] = `${name}-${hash32(seed + name) % 1000}`;
  }
  return JSON.stringify(args);
}

/**
 * Remembers prompt prefixes, as providers' prompt caches do, so a repeated long prefix is
 * reported as cached input tokens (OpenAI caches prefixes of 1024 tokens or more, in 128s).
 */
export class PrefixCache {
  #seen = new Map<string, number>();
  /** Returns the cached token count for this prefix and remembers it for next time. */
  lookup(key: string | undefined, prefixTokens: number, now = Date.now()): number {
    if (!key || prefixTokens < 1024) return 0;
    const seenAt = this.#seen.get(key);
    this.#seen.set(key, now);
    if (this.#seen.size > 10_000) this.#seen.delete(this.#seen.keys().next().value!);
    return seenAt !== undefined && now - seenAt < 300_000
      ? Math.floor(prefixTokens / 128) * 128
      : 0;
  }
}

/** Decides the answer: a tool call when tools are offered and not declined, else text. */
export function plan(input: SimInput, options: SimulatorOptions, cache: PrefixCache): Plan {
  const inputTokens = Math.max(1, estimateTokens(input.promptText) + input.images * 85);
  const cached = input.prefixText
    ? cache.lookup(input.prefixKey, estimateTokens(input.prefixText))
    : 0;
  const seed = `${input.model}|${input.lastUserText}`;
  const wantsTool = input.tools.length > 0 && !input.afterToolResult && input.toolChoice !== "none";
  if (wantsTool) {
    const forced = typeof input.toolChoice === "object" ? input.toolChoice.name : undefined;
    const tool = input.tools.find((t) => t.name === forced) ?? input.tools[0];
    const args = exampleArguments(tool.parameters, seed);
    return {
      tokens: [],
      toolCall: { id: `call_${hash32(seed).toString(36)}`, name: tool.name, arguments: args },
      finish: "tool_calls",
      usage: { input: inputTokens, output: estimateTokens(args) + 5, cached },
    };
  }
  const rand = random(hash32(seed));
  const natural = Math.max(8, options.defaultOutputTokens ?? 48);
  const limit = input.maxTokens ?? Infinity;
  const tokens: string[] = [`Simulated`, ` ${input.model}`, ` reply:`];
  const echo = input.lastUserText.trim().split(/\s+/).filter(Boolean).slice(0, 8);
  for (const word of echo) tokens.push(` ${word}`);
  while (tokens.length < natural) tokens.push(` ${WORDS[Math.floor(rand() * WORDS.length)]}`);
  tokens[tokens.length - 1] += ".";
  const truncated = tokens.length > limit;
  const out = truncated ? tokens.slice(0, Math.max(1, limit)) : tokens;
  return {
    tokens: out,
    finish: truncated ? "length" : "stop",
    usage: { input: inputTokens, output: out.length, cached },
  };
}

/** The latency profile and fault for one request's model. */
export function settingsFor(
  options: SimulatorOptions,
  model: string,
): { latency: LatencyProfile; fault: FaultSpec } {
  const perModel = options.models?.[model];
  return {
    latency: { ...DEFAULT_LATENCY, ...options.latency, ...perModel?.latency },
    fault: perModel?.fault ?? options.fault ?? { mode: "none" },
  };
}

/** Rolls the dice: does this request get the fault? */
export function faultApplies(fault: FaultSpec, rand: () => number): boolean {
  return fault.mode !== "none" && rand() < (fault.rate ?? 1);
}

/** Sleeps, resolving early (with false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!signal?.aborted);
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Applies relative jitter to a delay. */
export function jittered(ms: number, jitter: number, rand: () => number): number {
  return Math.max(0, ms * (1 + (rand() * 2 - 1) * jitter));
}

/**
 * Yields the plan's tokens in groups as a provider streams them, after the time to first token
 * and at the profile's rate. Groups of up to 4 tokens keep event counts realistic.
 */
export async function* pace(
  tokens: string[],
  latency: LatencyProfile,
  rand: () => number,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  if (!await sleep(jittered(latency.ttft_ms, latency.jitter, rand), signal)) return;
  const perToken = latency.tokens_per_s > 0 ? 1000 / latency.tokens_per_s : 0;
  for (let i = 0; i < tokens.length;) {
    const group = Math.min(tokens.length - i, 1 + Math.floor(rand() * 4));
    yield tokens.slice(i, i + group).join("");
    i += group;
    if (
      i < tokens.length && !await sleep(jittered(perToken * group, latency.jitter, rand), signal)
    ) {
      return;
    }
  }
}

/** Total generation time for a non-streaming answer: first token plus the rest at the rate. */
export function generationTime(plan: Plan, latency: LatencyProfile, rand: () => number): number {
  const perToken = latency.tokens_per_s > 0 ? 1000 / latency.tokens_per_s : 0;
  return jittered(
    latency.ttft_ms + perToken * Math.max(0, plan.usage.output - 1),
    latency.jitter,
    rand,
  );
}

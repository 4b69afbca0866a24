/**
 * The adapter contract: what a provider is to the rest of Switchyard. An adapter is data (base
 * URL, key header, names) plus pure transforms between the canonical OpenAI shape and the
 * provider's wire format, both ways, streaming included. Adapters never do I/O: `routing/` calls
 * `fetch` with what `request()` builds and feeds the reply back through `response()`/`stream()`.
 *
 * Every adapter runs the same conformance suite (tests/upstream/conformance.ts) against its
 * simulator, so a new provider is a new folder plus one line that runs the suite.
 */
import type { SseEvent } from "./sse.ts";
import type { ChatRequest, ChatResponse, NormalizedUsage } from "./types.ts";
import type { UpstreamError } from "./errors.ts";

/** Provider wire formats Switchyard speaks. */
export const PROVIDERS = [
  "openai",
  "anthropic",
  "gemini",
  "mistral",
  "openrouter",
  "openai-compatible",
] as const;
export type ProviderName = typeof PROVIDERS[number];

/** OpenRouter's provider-routing preferences, passed through untouched. */
export interface GatewayProviderPreferences {
  order?: string[];
  allow_fallbacks?: boolean;
  require_parameters?: boolean;
  data_collection?: "allow" | "deny";
  zdr?: boolean;
  only?: string[];
  ignore?: string[];
  quantizations?: string[];
  sort?: "price" | "throughput" | "latency";
  max_price?: Record<string, number>;
  [k: string]: unknown;
}

/** Options a gateway route carries to its gateway (OpenRouter's `provider` and `models`). */
export interface GatewayOptions {
  provider?: GatewayProviderPreferences;
  models?: string[];
}

/** Everything an adapter needs to know about the route it is serving, resolved at load. */
export interface UpstreamTarget {
  /** Route name in the policy (for messages only). */
  readonly route: string;
  readonly provider: ProviderName;
  /** The provider's model id (e.g. `claude-sonnet-4-5`, `openai/gpt-4o-mini` on OpenRouter). */
  readonly model: string;
  /** Base URL without a trailing slash, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  /** May be empty for keyless OpenAI-compatible servers (a local vLLM or Ollama). */
  readonly apiKey: string;
  readonly gateway?: GatewayOptions;
  /** Sent to gateways that attribute traffic to an app (OpenRouter's `HTTP-Referer`, `X-Title`). */
  readonly app?: { referer?: string; title?: string };
}

/** What to send: `routing/` adds `x-request-id`, `traceparent` and the abort signal. */
export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A whole (non-streaming) answer, translated. */
export interface Completion {
  response: ChatResponse;
  usage: NormalizedUsage | undefined;
  /**
   * The upstream's own bytes when they already are the OpenAI response the client should get, so
   * the server can send them without re-serializing.
   */
  raw?: string;
  /** The provider a gateway says it used (OpenRouter's `provider`). */
  servedBy?: string;
}

/** What a translated stream yields. */
export type StreamEvent =
  | {
    type: "chunk";
    /** An OpenAI `chat.completion.chunk` as JSON text, ready to go out as `data: …`. */
    data: string;
    /** True when this chunk carries generated content (text, refusal or a tool call delta). */
    content: boolean;
    /** Set on the chunk that carries usage (OpenAI's final `choices: []` chunk). */
    usage?: NormalizedUsage;
    /** True when this chunk is only the usage chunk (no choices), so it can be withheld. */
    usageOnly?: boolean;
    finishReason?: string;
    responseId?: string;
    responseModel?: string;
    servedBy?: string;
  }
  | { type: "error"; error: UpstreamError }
  /** The upstream said the stream is complete (`[DONE]`, `message_stop`, end of a Gemini stream). */
  | { type: "done" };

/** Options that shape one translation. */
export interface StreamOptions {
  /** Ask the upstream for usage even when the client did not (budgets depend on it). */
  includeUsage: boolean;
}

/**
 * What a gateway reports about one generation after the fact (OpenRouter's `/generation`), so
 * that its own share of the latency can be told apart from the provider's.
 */
export interface GenerationStats {
  /** The provider the gateway used. */
  provider?: string;
  /** The gateway's whole-request latency, ms. */
  latencyMs?: number;
  /** Time the provider spent generating, ms. */
  generationMs?: number;
  /** Time spent on moderation, ms. */
  moderationMs?: number;
  totalCostUsd?: number;
}

/** Gateways that report per-generation stats expose how to ask for them. */
export interface GenerationStatsSource {
  /** A GET request for one generation's stats. */
  request(
    target: UpstreamTarget,
    generationId: string,
  ): { url: string; headers: Record<string, string> };
  /** Reads the reply; undefined when the stats are not ready yet. */
  parse(body: string): GenerationStats | undefined;
}

/**
 * Stream translation as plain calls: one upstream event in, its OpenAI chunks out through `emit`,
 * synchronously. The server drives it straight from the bytes it reads, so a burst of upstream
 * events costs no stream hand-offs; `Adapter.stream` wraps it as a TransformStream.
 */
export interface StreamTranslator {
  push(event: SseEvent, emit: (out: StreamEvent) => void): void;
  /** The upstream's body ended; emit whatever completes the stream (e.g. `done`). */
  end(emit: (out: StreamEvent) => void): void;
}

/** The contract every provider implements. */
export interface Adapter {
  readonly provider: ProviderName;
  /** `gen_ai.provider.name` per the OpenTelemetry GenAI conventions. */
  readonly genAiProviderName: string;
  /** Used when a route gives no `base_url`. Empty means a route must give one. */
  readonly defaultBaseUrl: string;
  /** The environment variable a route's key comes from when it names none. */
  readonly defaultApiKeyEnv: string;
  /**
   * Builds the upstream HTTP request for a canonical request. `raw` is the client's body text
   * when `req` is exactly what it parsed to (no default filled, nothing normalized): an adapter
   * whose wire format is the canonical one may forward it instead of serializing `req`.
   */
  request(
    req: ChatRequest,
    target: UpstreamTarget,
    options: StreamOptions,
    raw?: string,
  ): UpstreamRequest;
  /**
   * Translates a 2xx JSON body. Throws an `UpstreamError` (`error_in_body` or `malformed`) when the
   * body is an error or not the provider's format.
   */
  response(body: string, target: UpstreamTarget): Completion;
  /**
   * Translates the provider's SSE events into OpenAI chunks. Must flush nothing it could have sent
   * earlier: one upstream event in, its chunks out.
   */
  stream(target: UpstreamTarget, options: StreamOptions): TransformStream<SseEvent, StreamEvent>;
  /** The same translation as `stream`, as synchronous calls (what the server uses). */
  translator(target: UpstreamTarget, options: StreamOptions): StreamTranslator;
  /** Classifies a non-2xx reply into an `UpstreamError`. */
  error(status: number, body: string, headers: Headers): UpstreamError;
  /** Present on gateways that report generation stats after the fact. */
  readonly generationStats?: GenerationStatsSource;
}

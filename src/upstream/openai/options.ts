/**
 * What makes one OpenAI-compatible upstream differ from another, as data and small hooks. The
 * OpenAI base (`createOpenAIAdapter`) reads these; Mistral, OpenRouter and any `base_url` are
 * each one options object, so no code outside a provider's folder branches on its name.
 */
import type { ProviderName, StreamOptions, UpstreamTarget } from "../adapter.ts";
import type { ChatRequest } from "../types.ts";

/** The outgoing JSON body while it is being built: a shallow copy the hooks may change. */
export type WireBody = Record<string, unknown>;

/** Options for one OpenAI-compatible provider. */
export interface OpenAIAdapterOptions {
  provider: ProviderName;
  /** `gen_ai.provider.name` (`openai`, `mistral_ai`, `openrouter`). */
  genAiProviderName: string;
  /** Empty when a route must give its own `base_url`. */
  defaultBaseUrl: string;
  defaultApiKeyEnv: string;
  /**
   * The header that carries the key, and what precedes the key in it (`Bearer `). Nothing is
   * sent when a route's key is empty (a keyless local server).
   */
  auth: { header: string; prefix: string };
  /** Whether the upstream accepts `stream_options.include_usage` (Mistral rejects it and always
   * sends usage on its last chunk). */
  streamOptions: boolean;
  /** Adjusts the body after the common mapping (field renames, route-configured additions). */
  mapBody?: (
    body: WireBody,
    req: ChatRequest,
    target: UpstreamTarget,
    options: StreamOptions,
  ) => void;
  /**
   * With `mapBody`: true when it would leave this request's body as it is, so the client's own
   * bytes can be forwarded (see raw_body.ts). Without it, every body goes through `mapBody`.
   */
  leavesBodyAsIs?: (req: ChatRequest, target: UpstreamTarget) => boolean;
  /** Extra headers for a route (OpenRouter's app attribution). */
  headers?: (target: UpstreamTarget) => Record<string, string>;
}

/**
 * A fleet of simulated upstreams on loopback: one simulator per wire format (OpenAI, Anthropic,
 * Gemini, Mistral) plus the OpenRouter gateway wired to them, each on its own port.
 *
 * Base URL convention: each `baseUrls[provider]` is exactly what that provider's adapter expects
 * as a route's `baseUrl`, i.e. the real provider's default base URL with the origin swapped:
 *
 * | provider            | real default                                       | fleet                       |
 * | ------------------- | -------------------------------------------------- | --------------------------- |
 * | `openai`            | `https://api.openai.com/v1`                        | `http://127.0.0.1:P/v1`     |
 * | `anthropic`         | `https://api.anthropic.com/v1`                     | `http://127.0.0.1:P/v1`     |
 * | `gemini`            | `https://generativelanguage.googleapis.com/v1beta` | `http://127.0.0.1:P/v1beta` |
 * | `mistral`           | `https://api.mistral.ai/v1`                        | `http://127.0.0.1:P/v1`     |
 * | `openrouter`        | `https://openrouter.ai/api/v1`                     | `http://127.0.0.1:P/api/v1` |
 * | `openai-compatible` | (a route's own)                                    | the OpenAI simulator's `/v1` |
 *
 * @example
 * ```ts
 * await using fleet = await startFleet({ latency: { ttft_ms: 5, tokens_per_s: 2000, jitter: 0 } });
 * const reply = await fetch(`${fleet.baseUrls.openai}/chat/completions`, { method: "POST", … });
 * ```
 */
import type { ProviderName } from "../upstream/adapter.ts";
import { openaiAdapter } from "../upstream/openai/index.ts";
import { mistralAdapter } from "../upstream/mistral/index.ts";
import { anthropicAdapter } from "../upstream/anthropic/index.ts";
import { geminiAdapter } from "../upstream/gemini/index.ts";
import type { SimulatorOptions } from "./engine.ts";
import { type RunningSimulator, type SimFactory, startSimulator } from "./server.ts";
import { createOpenAISimulator } from "./openai.ts";
import { createMistralSimulator } from "./mistral.ts";
import { createAnthropicSimulator } from "./anthropic.ts";
import { createGeminiSimulator } from "./gemini.ts";
import { createOpenRouterSimulator, type OpenRouterSimConfig } from "./openrouter.ts";
import type { GatewayProvider } from "./openrouter_routing.ts";
import {
  BASE_PATHS,
  FLEET_LATENCY,
  type LatencyProfile,
  type SimulatedProvider,
} from "./providers.ts";

export const FACTORIES: Record<Exclude<SimulatedProvider, "openrouter">, SimFactory> = {
  openai: createOpenAISimulator,
  anthropic: createAnthropicSimulator,
  gemini: createGeminiSimulator,
  mistral: createMistralSimulator,
};

/** How to start a fleet. */
export interface FleetOptions {
  /** Applied to every provider over its realistic default (e.g. `{ttft_ms: 5}` in tests). */
  latency?: Partial<LatencyProfile>;
  /** Per provider: latency, faults, per-model settings, the key it demands, a seed. */
  providers?: Partial<Record<SimulatedProvider, SimulatorOptions>>;
  /** The gateway's own timing (processing time, keep-alive interval, stats delay). */
  gateway?: Omit<OpenRouterSimConfig, "providers">;
  /** Default `127.0.0.1`. */
  hostname?: string;
}

/** A running fleet; closing it closes every simulator. */
export interface Fleet extends AsyncDisposable {
  /** Each provider's base URL, as its adapter expects it (see the table above). */
  readonly baseUrls: Record<ProviderName, string>;
  readonly sims: Record<SimulatedProvider, RunningSimulator>;
  close(): Promise<void>;
}

export function optionsFor(provider: SimulatedProvider, options: FleetOptions): SimulatorOptions {
  const own = options.providers?.[provider] ?? {};
  return {
    ...own,
    latency: { ...FLEET_LATENCY[provider], ...options.latency, ...own.latency },
  };
}

/** The providers behind the gateway, OpenRouter-style: names, slugs, prefixes and prices. */
export function gatewayProviders(
  baseUrls: Record<SimulatedProvider, string>,
  options: FleetOptions,
): GatewayProvider[] {
  const key = (p: SimulatedProvider) => options.providers?.[p]?.apiKey ?? "sim-key";
  const openai = {
    prefix: "openai/",
    adapter: openaiAdapter,
    baseUrl: baseUrls.openai,
    apiKey: key("openai"),
    models: ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"],
    pricing: { prompt: 0.15, completion: 0.6 },
  };
  return [
    { ...openai, name: "OpenAI", slug: "openai" },
    // A second endpoint for the same models, so provider order/only/ignore have a choice.
    { ...openai, name: "Azure", slug: "azure" },
    {
      name: "Anthropic",
      slug: "anthropic",
      prefix: "anthropic/",
      adapter: anthropicAdapter,
      baseUrl: baseUrls.anthropic,
      apiKey: key("anthropic"),
      // OpenRouter writes versions with dots (`claude-sonnet-4.5`), Anthropic with dashes.
      modelId: (id) => id.replaceAll(".", "-"),
      models: ["claude-sonnet-4.5", "claude-haiku-4.5"],
      pricing: { prompt: 3, completion: 15 },
    },
    {
      name: "Google AI Studio",
      slug: "google-ai-studio",
      prefix: "google/",
      adapter: geminiAdapter,
      baseUrl: baseUrls.gemini,
      apiKey: key("gemini"),
      models: ["gemini-2.5-flash", "gemini-2.5-pro"],
      pricing: { prompt: 0.3, completion: 2.5 },
    },
    {
      name: "Mistral",
      slug: "mistral",
      prefix: "mistralai/",
      adapter: mistralAdapter,
      baseUrl: baseUrls.mistral,
      apiKey: key("mistral"),
      modelId: (id) => /-(latest|\d{4})$/.test(id) ? id : `${id}-latest`,
      models: ["mistral-small", "mistral-medium", "mistral-large"],
      pricing: { prompt: 0.1, completion: 0.3 },
    },
  ];
}

/** Starts every simulator on its own ephemeral port and wires the gateway to the others. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const listen = { hostname: options.hostname ?? "127.0.0.1", port: 0 };
  const started: RunningSimulator[] = [];
  const close = () => Promise.all(started.map((sim) => sim.close())).then(() => {});
  try {
    const direct = {} as Record<SimulatedProvider, RunningSimulator>;
    for (const provider of Object.keys(FACTORIES) as (keyof typeof FACTORIES)[]) {
      direct[provider] = await startSimulator(
        FACTORIES[provider],
        optionsFor(provider, options),
        listen,
      );
      started.push(direct[provider]);
    }
    const url = (p: Exclude<SimulatedProvider, "openrouter">) => direct[p].origin + BASE_PATHS[p];
    const partial = {
      openai: url("openai"),
      anthropic: url("anthropic"),
      gemini: url("gemini"),
      mistral: url("mistral"),
    } as Record<SimulatedProvider, string>;
    const gateway = createOpenRouterSimulator({
      ...options.gateway,
      providers: gatewayProviders(partial, options),
    });
    direct.openrouter = await startSimulator(gateway, optionsFor("openrouter", options), listen);
    started.push(direct.openrouter);
    const baseUrls: Record<ProviderName, string> = {
      ...partial,
      openrouter: direct.openrouter.origin + BASE_PATHS.openrouter,
      "openai-compatible": partial.openai,
    };
    return { baseUrls, sims: direct, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}

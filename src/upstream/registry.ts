/**
 * Every adapter, by provider name: the only place that lists providers. The generic pipeline looks
 * adapters up here and never branches on a provider's name.
 */
import type { Adapter, ProviderName } from "./adapter.ts";
import { anthropicAdapter } from "./anthropic/index.ts";
import { geminiAdapter } from "./gemini/index.ts";
import { mistralAdapter } from "./mistral/index.ts";
import { openaiAdapter } from "./openai/index.ts";
import { openaiCompatibleAdapter } from "./openai-compatible/index.ts";
import { openrouterAdapter } from "./openrouter/index.ts";

export const ADAPTERS: Readonly<Record<ProviderName, Adapter>> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  mistral: mistralAdapter,
  openrouter: openrouterAdapter,
  "openai-compatible": openaiCompatibleAdapter,
};

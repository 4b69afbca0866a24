/**
 * OpenAI, and the OpenAI-compatible base every OpenAI-shaped provider reuses: call
 * `createOpenAIAdapter(options)` with the provider's differences (see `options.ts`).
 */
import type { Adapter } from "../adapter.ts";
import type { OpenAIAdapterOptions } from "./options.ts";
import { buildRequest } from "./request.ts";
import { readResponse } from "./response.ts";
import { createTranslator, translateStream } from "./stream.ts";
import { classifyError } from "./errors.ts";

export type { OpenAIAdapterOptions, WireBody } from "./options.ts";

/** Builds an adapter for an OpenAI-compatible upstream from its differences. */
export function createOpenAIAdapter(options: OpenAIAdapterOptions): Adapter {
  return {
    provider: options.provider,
    genAiProviderName: options.genAiProviderName,
    defaultBaseUrl: options.defaultBaseUrl,
    defaultApiKeyEnv: options.defaultApiKeyEnv,
    request: (req, target, streamOptions, raw) =>
      buildRequest(options, req, target, streamOptions, raw),
    response: (body) => readResponse(body),
    stream: (_target, streamOptions) => translateStream(streamOptions),
    translator: (_target, streamOptions) => createTranslator(streamOptions),
    error: (status, body, headers) => classifyError(status, body, headers),
  };
}

/** OpenAI's Chat Completions API. */
export const openaiAdapter: Adapter = createOpenAIAdapter({
  provider: "openai",
  genAiProviderName: "openai",
  defaultBaseUrl: "https://api.openai.com/v1",
  defaultApiKeyEnv: "OPENAI_API_KEY",
  auth: { header: "authorization", prefix: "Bearer " },
  streamOptions: true,
});

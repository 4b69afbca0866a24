/**
 * Any OpenAI-compatible server (vLLM, Ollama, LM Studio, a corporate proxy) at a route's own
 * `base_url`, through the OpenAI base. The key is optional: keyless local servers get no
 * `Authorization` header.
 */
import type { Adapter } from "../adapter.ts";
import { createOpenAIAdapter } from "../openai/index.ts";

/** An OpenAI-compatible server; routes must give `base_url`. */
export const openaiCompatibleAdapter: Adapter = createOpenAIAdapter({
  provider: "openai-compatible",
  // No registered `gen_ai.provider.name` exists for a generic server; this is our custom value.
  genAiProviderName: "openai_compatible",
  defaultBaseUrl: "",
  defaultApiKeyEnv: "OPENAI_COMPATIBLE_API_KEY",
  auth: { header: "authorization", prefix: "Bearer " },
  streamOptions: true,
});

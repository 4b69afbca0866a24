/**
 * Mistral's Chat Completions API: OpenAI-shaped, through the OpenAI base. Its differences live
 * here: `random_seed` for `seed`, `max_tokens` only, no `stream_options` (usage always rides on
 * the last chunk, which the base splits into OpenAI's usage-only chunk), no `developer` role, and
 * a 422 for any field it does not know, so OpenAI-only fields are dropped.
 */
import type { Adapter } from "../adapter.ts";
import type { Message } from "../types.ts";
import { createOpenAIAdapter, type WireBody } from "../openai/index.ts";

/** OpenAI request fields Mistral rejects ("Extra inputs are not permitted"). */
const OPENAI_ONLY = [
  "user",
  "store",
  "logprobs",
  "top_logprobs",
  "logit_bias",
  "modalities",
  "audio",
  "service_tier",
  "web_search_options",
  "verbosity",
];

/** Renames and drops what Mistral names differently or does not accept. */
export function mistralBody(body: WireBody): void {
  if (body.seed != null && body.random_seed == null) body.random_seed = body.seed;
  delete body.seed;
  if (body.max_completion_tokens != null && body.max_tokens == null) {
    body.max_tokens = body.max_completion_tokens;
  }
  delete body.max_completion_tokens;
  for (const field of OPENAI_ONLY) delete body[field];
  const messages = body.messages as Message[];
  if (messages.some((m) => m.role === "developer")) {
    body.messages = messages.map((m) => m.role === "developer" ? { ...m, role: "system" } : m);
  }
}

/** Mistral's Chat Completions API. */
export const mistralAdapter: Adapter = createOpenAIAdapter({
  provider: "mistral",
  genAiProviderName: "mistral_ai",
  defaultBaseUrl: "https://api.mistral.ai/v1",
  defaultApiKeyEnv: "MISTRAL_API_KEY",
  auth: { header: "authorization", prefix: "Bearer " },
  streamOptions: false,
  mapBody: mistralBody,
});

/**
 * The upstream body of an OpenAI-compatible request: serialized from the parsed request, or the
 * client's bytes forwarded with the model written in (raw_body.ts), for a short chat and for a
 * prompt carrying ~64 KiB of retrieved context. Each includes the UTF-8 encoding `fetch` does
 * (a forwarded body is a concatenation that has to be flattened first).
 */
import { openaiAdapter } from "./index.ts";
import type { UpstreamTarget } from "../adapter.ts";
import type { ChatRequest } from "../types.ts";

const TARGET: UpstreamTarget = {
  route: "bench",
  provider: "openai",
  model: "gpt-4o-mini",
  baseUrl: "https://api.openai.com/v1",
  apiKey: "sk-bench",
};
const OPTIONS = { includeUsage: true };
const encoder = new TextEncoder();

const context = Array.from(
  { length: 700 },
  (_, i) => `Passage ${i}: the quarterly figures for region ${i % 17} rose by ${i % 9}%.`,
).join("\n");
const BODIES = {
  short: JSON.stringify({
    model: "auto",
    messages: [{ role: "user", content: "Say hello in five words." }],
    max_tokens: 16,
  }),
  "64 KiB context": JSON.stringify({
    model: "auto",
    messages: [
      { role: "system", content: `Answer from these passages only.\n${context}` },
      { role: "user", content: "Which region grew most?" },
    ],
    max_tokens: 256,
  }),
};

for (const [label, raw] of Object.entries(BODIES)) {
  const req = JSON.parse(raw) as ChatRequest;
  Deno.bench(`openai request body, ${label}: serialized`, { group: label, baseline: true }, () => {
    encoder.encode(openaiAdapter.request(req, TARGET, OPTIONS).body);
  });
  Deno.bench(`openai request body, ${label}: client bytes forwarded`, { group: label }, () => {
    encoder.encode(openaiAdapter.request(req, TARGET, OPTIONS, raw).body);
  });
}

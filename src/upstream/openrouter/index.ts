/**
 * OpenRouter, a gateway with an OpenAI-shaped API, through the OpenAI base. Its differences live
 * here: the route's provider preferences and fallback `models` go in the body (only the route's:
 * a client cannot steer the gateway around the policy), the app is attributed with `HTTP-Referer`
 * and `X-Title`. The base already reads the rest: the `provider` that served (`servedBy`),
 * `usage.cost` (`reported_cost_usd`), `: OPENROUTER PROCESSING` comments (dropped) and errors in
 * 200 bodies and SSE data events.
 */
import { z } from "zod";
import type { Adapter, GenerationStatsSource, UpstreamTarget } from "../adapter.ts";
import { createOpenAIAdapter, type WireBody } from "../openai/index.ts";
import type { ChatRequest } from "../types.ts";

/** Puts the route's gateway options in the body, replacing anything the client sent. */
export function openrouterBody(body: WireBody, target: UpstreamTarget): void {
  delete body.provider;
  delete body.models;
  const gateway = target.gateway;
  if (gateway?.provider && Object.keys(gateway.provider).length > 0) {
    body.provider = gateway.provider;
  }
  if (gateway?.models && gateway.models.length > 0) body.models = gateway.models;
}

/** True when `openrouterBody` would change nothing: no routing fields, from the client or the route. */
export function openrouterLeavesAsIs(req: ChatRequest, target: UpstreamTarget): boolean {
  const gateway = target.gateway;
  return !Object.hasOwn(req, "provider") && !Object.hasOwn(req, "models") &&
    !(gateway?.provider && Object.keys(gateway.provider).length > 0) &&
    !(gateway?.models && gateway.models.length > 0);
}

/** OpenRouter's app attribution headers. */
export function openrouterHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = {};
  if (target.app?.referer) headers["HTTP-Referer"] = target.app.referer;
  if (target.app?.title) headers["X-Title"] = target.app.title;
  return headers;
}

const GenerationReply = z.object({
  data: z.looseObject({
    provider_name: z.string().nullish(),
    latency: z.number().nullish(),
    generation_time: z.number().nullish(),
    moderation_latency: z.number().nullish(),
    total_cost: z.number().nullish(),
  }),
});

/**
 * `GET /generation?id=…`: available a few seconds after a generation completes (404 until then).
 * Its `generation_time` and `moderation_latency` let the gateway's own overhead be estimated.
 */
export const openrouterGenerationStats: GenerationStatsSource = {
  request: (target, id) => ({
    url: `${target.baseUrl}/generation?id=${encodeURIComponent(id)}`,
    headers: { authorization: `Bearer ${target.apiKey}` },
  }),
  parse(body) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return undefined;
    }
    const parsed = GenerationReply.safeParse(json);
    if (!parsed.success) return undefined;
    const d = parsed.data.data;
    return {
      provider: d.provider_name ?? undefined,
      latencyMs: d.latency ?? undefined,
      generationMs: d.generation_time ?? undefined,
      moderationMs: d.moderation_latency ?? undefined,
      totalCostUsd: d.total_cost ?? undefined,
    };
  },
};

/** OpenRouter's Chat Completions API. */
export const openrouterAdapter: Adapter = {
  ...createOpenAIAdapter({
    provider: "openrouter",
    genAiProviderName: "openrouter",
    defaultBaseUrl: "https://openrouter.ai/api/v1",
    defaultApiKeyEnv: "OPENROUTER_API_KEY",
    auth: { header: "authorization", prefix: "Bearer " },
    streamOptions: true,
    mapBody: (body, _req, target) => openrouterBody(body, target),
    leavesBodyAsIs: (req, target) => openrouterLeavesAsIs(req, target),
    headers: openrouterHeaders,
  }),
  generationStats: openrouterGenerationStats,
};

/**
 * The simulated OpenRouter: a gateway, so a hop of its own. It takes OpenAI-format requests at
 * `POST /api/v1/chat/completions` with ids like `openai/gpt-4o-mini` or
 * `anthropic/claude-sonnet-4.5`, waits its own processing time, and forwards each to the
 * provider simulator registered for the prefix (through our adapters, in that provider's wire
 * format), trying `models` fallbacks and honouring `provider` preferences. It answers in
 * OpenAI's shape plus `provider` and `usage.cost`, keeps streams alive with
 * `: OPENROUTER PROCESSING` comments, reports provider failures after a stream started as SSE
 * error events, forwards `traceparent`, and serves `GET /api/v1/generation?id=` stats and
 * `GET /api/v1/models`. Base URL: `${origin}/api/v1`.
 */
import { gatewayWork } from "./tracing.ts";
import { z } from "zod";
import { faultApplies, type FaultMode, settingsFor, sleep } from "./engine.ts";
import { isAuthorized, never, RESET_CONNECTION, type SimFactory } from "./server.ts";
import { ChatRequestSchema } from "../upstream/types.ts";
import { idChars } from "./openai.ts";
import { candidates, type GatewayProvider } from "./openrouter_routing.ts";
import { GenerationLog } from "./openrouter_stats.ts";
import { relayCompletion, type RelayContext, relayStream } from "./openrouter_relay.ts";
import { gatewayError } from "./openrouter_errors.ts";
import { SSE_HEADERS, streamBody } from "./stream_body.ts";

export type { GatewayProvider } from "./openrouter_routing.ts";
export type { GenerationStats } from "./openrouter_stats.ts";

/** The gateway's providers and its own timing. */
export interface OpenRouterSimConfig {
  providers: GatewayProvider[];
  /** The gateway's own processing time per request, ms, drawn uniformly. Default [15, 40]. */
  processingMs?: [number, number];
  /** Simulated moderation before forwarding, ms (reported as `moderation_latency`). Default 0. */
  moderationMs?: number;
  /** Interval of `: OPENROUTER PROCESSING` comments while a stream waits. Default 300. */
  keepAliveMs?: number;
  /** How long after completion generation stats become readable, ms. Default 0. */
  statsDelayMs?: number;
}

const GatewayRequestSchema = ChatRequestSchema.extend({
  models: z.array(z.string()).optional(),
  provider: z.looseObject({
    order: z.array(z.string()).optional(),
    only: z.array(z.string()).optional(),
    ignore: z.array(z.string()).optional(),
    allow_fallbacks: z.boolean().optional(),
    sort: z.enum(["price", "throughput", "latency"]).optional(),
  }).optional(),
});

/** Builds the gateway simulator over its providers. */
export function createOpenRouterSimulator(config: OpenRouterSimConfig): SimFactory {
  return (state) => {
    const log = new GenerationLog(config.statsDelayMs ?? 0);
    return async (request, signal) => {
      const url = new URL(request.url);
      if (!isAuthorized(request, state.options.apiKey, { header: "authorization" })) {
        return gatewayError(401, "No cookie auth credentials found");
      }
      if (request.method === "GET" && url.pathname === "/api/v1/generation") {
        const stats = log.get(url.searchParams.get("id") ?? "");
        return stats ? Response.json({ data: stats }) : gatewayError(404, "Generation not found");
      }
      if (request.method === "GET" && url.pathname === "/api/v1/models") {
        return Response.json({ data: modelList(config.providers) });
      }
      if (request.method !== "POST" || url.pathname !== "/api/v1/chat/completions") {
        return gatewayError(404, `Not found: ${url.pathname}`);
      }
      let json: unknown;
      try {
        json = await request.json();
      } catch {
        return gatewayError(400, "Invalid JSON body");
      }
      const parsed = GatewayRequestSchema.safeParse(json);
      if (!parsed.success) {
        return gatewayError(400, parsed.error.issues[0]?.message ?? "Invalid request");
      }
      const req = parsed.data;
      const { fault } = settingsFor(state.options, req.model);
      const mode: FaultMode = faultApplies(fault, state.rand) ? fault.mode : "none";
      const streaming = req.stream === true;
      const early = ownFault(mode, streaming, fault.retry_after_s ?? 1, signal);
      if (early) return early;
      const picked = candidates(config.providers, req.model, req.models, req.provider);
      if (!Array.isArray(picked)) return gatewayError(picked.status ?? 400, picked.message);

      const received = performance.now();
      const [min, max] = config.processingMs ?? [15, 40];
      const moderation = config.moderationMs ?? 0;
      const processed = await gatewayWork(() =>
        sleep(min + state.rand() * (max - min) + moderation, signal)
      );
      if (!processed) return RESET_CONNECTION;
      const id = `gen-${Math.floor(Date.now() / 1000)}-${
        idChars(`${req.model}${state.rand()}`, 20)
      }`;
      const context: RelayContext = {
        id,
        req,
        picked,
        received,
        moderation,
        traceparent: request.headers.get("traceparent"),
        referer: request.headers.get("http-referer") ?? "",
        log,
        signal,
        mode,
        afterChunks: mode === "error_in_200" || mode === "malformed" ? 0 : fault.after_chunks ?? 2,
        keepAliveMs: config.keepAliveMs ?? 300,
      };
      if (!streaming) return await relayCompletion(context);
      return new Response(streamBody(relayStream(context)), {
        headers: { ...SSE_HEADERS, "x-generation-id": id },
      });
    };
  };
}

/** The gateway's own faults that answer before any provider is called. */
function ownFault(
  mode: FaultMode,
  streaming: boolean,
  retryAfterS: number,
  signal: AbortSignal,
): Response | Promise<typeof RESET_CONNECTION> | typeof RESET_CONNECTION | undefined {
  switch (mode) {
    case "reset":
      return RESET_CONNECTION;
    case "timeout":
      return never(signal);
    case "error":
      return gatewayError(502, "Provider returned error");
    case "rate_limit":
      return gatewayError(429, "Rate limit exceeded: too many requests", {
        "retry-after": String(retryAfterS),
      });
    case "context_length":
      return gatewayError(
        400,
        "This endpoint's maximum context length is 128000 tokens. However, you requested about" +
          ' 131072 tokens. Please reduce the length of either one, or use the "middle-out"' +
          " transform to compress your prompt automatically.",
      );
    case "malformed":
      return streaming ? undefined : new Response("<html><body>Bad gateway</body></html>", {
        headers: { "content-type": "text/html" },
      });
    case "error_in_200":
    case "sse_error":
      return streaming
        ? undefined
        : Response.json({ error: { code: 502, message: "Provider returned error" } });
  }
  return undefined;
}

function modelList(providers: GatewayProvider[]): unknown[] {
  const seen = new Set<string>();
  return providers.flatMap((provider) =>
    (provider.models ?? []).flatMap((model) => {
      const id = provider.prefix + model;
      if (seen.has(id)) return [];
      seen.add(id);
      const pricing = provider.pricing ?? { prompt: 1, completion: 2 };
      return [{
        id,
        name: id,
        created: 1_715_367_049,
        context_length: 128_000,
        pricing: {
          prompt: String(pricing.prompt / 1e6),
          completion: String(pricing.completion / 1e6),
        },
      }];
    })
  );
}

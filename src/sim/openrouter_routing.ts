/**
 * How the simulated gateway picks and calls providers: the request's model, then its `models`
 * fallbacks, each served by the providers registered for its prefix, filtered and ordered by the
 * request's `provider` preferences (`only`, `ignore`, `order`, `allow_fallbacks`, `sort`). Calls
 * go out with our own adapters, so the gateway speaks each provider's real wire format.
 */
import { tracingActive } from "./tracing.ts";
import type { Adapter, GatewayProviderPreferences, UpstreamTarget } from "../upstream/adapter.ts";
import type { ChatRequest } from "../upstream/types.ts";
import { UpstreamError } from "../upstream/errors.ts";

/** A provider the gateway can send a model prefix to. */
export interface GatewayProvider {
  /** As OpenRouter names it in responses and stats: `OpenAI`, `Anthropic`, `Google AI Studio`. */
  name: string;
  /** As preferences name it: `openai`, `anthropic`, `google-ai-studio`, `mistral`. */
  slug: string;
  /** The model id prefix it serves, e.g. `openai/`. */
  prefix: string;
  adapter: Adapter;
  /** The provider simulator's base URL, e.g. `http://127.0.0.1:41234/v1`. */
  baseUrl: string;
  apiKey: string;
  /** The provider's own model id for the part after the prefix (default: unchanged). */
  modelId?: (suffix: string) => string;
  /** Model ids (after the prefix) `GET /api/v1/models` lists. */
  models?: string[];
  /** USD per million tokens; cached input is billed at a quarter of `prompt`. */
  pricing?: { prompt: number; completion: number };
}

/** One provider for one model, in the order they will be tried. */
export interface Candidate {
  provider: GatewayProvider;
  /** The gateway's model id (`openai/gpt-4o-mini`). */
  model: string;
  target: UpstreamTarget;
}

/** Request fields only the gateway reads; providers would reject them. */
const GATEWAY_FIELDS = ["models", "provider", "plugins", "transforms", "route", "usage"];

function matches(provider: GatewayProvider, names: string[] | undefined): boolean {
  const wanted = (names ?? []).map((n) => n.toLowerCase());
  return wanted.includes(provider.slug) || wanted.includes(provider.name.toLowerCase());
}

/** Orders one model's providers by the preferences. */
function arrange(
  providers: GatewayProvider[],
  prefs: GatewayProviderPreferences | undefined,
): GatewayProvider[] {
  let list = providers;
  if (prefs?.only) list = list.filter((p) => matches(p, prefs.only));
  if (prefs?.ignore) list = list.filter((p) => !matches(p, prefs.ignore));
  if (prefs?.sort === "price") {
    list = [...list].sort((a, b) => price(a) - price(b));
  }
  if (prefs?.order) {
    const rank = (p: GatewayProvider) => {
      const i = prefs.order!.findIndex((n) => matches(p, [n]));
      return i === -1 ? Infinity : i;
    };
    const ordered = list.filter((p) => rank(p) !== Infinity).sort((a, b) => rank(a) - rank(b));
    list = prefs.allow_fallbacks === false
      ? ordered
      : [...ordered, ...list.filter((p) => rank(p) === Infinity)];
  } else if (prefs?.allow_fallbacks === false) {
    list = list.slice(0, 1);
  }
  return list;
}

function price(p: GatewayProvider): number {
  return (p.pricing?.prompt ?? 1) + (p.pricing?.completion ?? 2);
}

/**
 * Every (model, provider) pair to try, in order; an `UpstreamError` with OpenRouter's status when
 * a model is unknown (400) or no provider meets the preferences (404, as OpenRouter answers).
 */
export function candidates(
  providers: GatewayProvider[],
  model: string,
  fallbacks: string[] | undefined,
  prefs: GatewayProviderPreferences | undefined,
): Candidate[] | UpstreamError {
  const models = [...new Set([model, ...(fallbacks ?? [])])];
  const out: Candidate[] = [];
  for (const id of models) {
    const serving = providers.filter((p) => id.startsWith(p.prefix));
    if (serving.length === 0) {
      return new UpstreamError("client_error", `${id} is not a valid model ID`, { status: 400 });
    }
    for (const provider of arrange(serving, prefs)) {
      const suffix = id.slice(provider.prefix.length);
      out.push({
        provider,
        model: id,
        target: {
          route: `openrouter:${provider.slug}`,
          provider: provider.adapter.provider,
          model: provider.modelId ? provider.modelId(suffix) : suffix,
          baseUrl: provider.baseUrl,
          apiKey: provider.apiKey,
        },
      });
    }
  }
  if (out.length === 0) {
    return new UpstreamError(
      "client_error",
      "No endpoints found matching your data policy and provider preferences.",
      { status: 404 },
    );
  }
  return out;
}

/** The request as a provider should see it: the gateway's own fields removed. */
export function providerRequest(req: ChatRequest): ChatRequest {
  const copy: Record<string, unknown> = { ...req };
  for (const field of GATEWAY_FIELDS) delete copy[field];
  return copy as ChatRequest;
}

/** Calls one candidate; resolves with its 2xx response, or the classified failure. */
export async function callProvider(
  candidate: Candidate,
  req: ChatRequest,
  traceparent: string | null,
  signal: AbortSignal,
): Promise<Response | UpstreamError> {
  const { adapter } = candidate.provider;
  const upstream = adapter.request(req, candidate.target, { includeUsage: true });
  // With tracing on, Deno's fetch instrumentation sends this hop's own traceparent; without it,
  // the caller's is passed on unchanged.
  const forward: Record<string, string> = traceparent && !tracingActive() ? { traceparent } : {};
  const headers = { ...upstream.headers, ...forward };
  let response: Response;
  try {
    response = await fetch(upstream.url, {
      method: "POST",
      headers,
      body: upstream.body,
      signal,
    });
  } catch (cause) {
    return new UpstreamError("connection", `${candidate.provider.name} is unreachable`, { cause });
  }
  if (response.ok) return response;
  const body = await response.text().catch(() => "");
  return adapter.error(response.status, body, response.headers);
}

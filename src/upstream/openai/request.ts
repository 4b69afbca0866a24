/**
 * Canonical request → OpenAI-compatible request. The canonical form already is OpenAI's, so this
 * is a shallow copy: the target's model, usage requested on streams, unknown fields kept.
 */
import type { StreamOptions, UpstreamRequest, UpstreamTarget } from "../adapter.ts";
import type { ChatRequest } from "../types.ts";
import type { OpenAIAdapterOptions, WireBody } from "./options.ts";
import { withModel } from "./raw_body.ts";

/**
 * Builds the `POST {baseUrl}/chat/completions` request for `req`. `raw`, when given, is the
 * client's body text that `req` was parsed from unchanged: it is forwarded as is, with the
 * target's model written in, whenever the mapping below would not change anything else.
 */
export function buildRequest(
  adapter: OpenAIAdapterOptions,
  req: ChatRequest,
  target: UpstreamTarget,
  options: StreamOptions,
  raw?: string,
): UpstreamRequest {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: req.stream ? "text/event-stream" : "application/json",
    ...adapter.headers?.(target),
  };
  if (target.apiKey) headers[adapter.auth.header] = adapter.auth.prefix + target.apiKey;
  const forwarded = raw !== undefined && passesThrough(adapter, req, target, options)
    ? withModel(raw, req.model, target.model)
    : undefined;
  return {
    url: `${target.baseUrl}/chat/completions`,
    headers,
    body: forwarded ?? JSON.stringify(wireBody(adapter, req, target, options)),
  };
}

/** The request as this upstream takes it: a shallow copy with the mapping applied. */
function wireBody(
  adapter: OpenAIAdapterOptions,
  req: ChatRequest,
  target: UpstreamTarget,
  options: StreamOptions,
): WireBody {
  const body: WireBody = { ...req, model: target.model };
  if (!req.stream) {
    // OpenAI rejects stream_options on a non-streaming request.
    delete body.stream_options;
  } else if (adapter.streamOptions && options.includeUsage) {
    // Budgets need usage even when the client did not ask; the server withholds the usage-only
    // chunk from such clients.
    body.stream_options = { ...req.stream_options, include_usage: true };
  }
  if (!adapter.streamOptions) delete body.stream_options;
  adapter.mapBody?.(body, req, target, options);
  return body;
}

/** True when `wireBody` would change nothing in `req` but its model. */
function passesThrough(
  adapter: OpenAIAdapterOptions,
  req: ChatRequest,
  target: UpstreamTarget,
  options: StreamOptions,
): boolean {
  if (adapter.mapBody && !adapter.leavesBodyAsIs?.(req, target)) return false;
  const hasStreamOptions = Object.hasOwn(req, "stream_options");
  if (!req.stream || !adapter.streamOptions) return !hasStreamOptions;
  return !options.includeUsage || req.stream_options?.include_usage === true;
}

/**
 * Canonical request → OpenAI-compatible request. The canonical form already is OpenAI's, so this
 * is a shallow copy: the target's model, usage requested on streams, unknown fields kept.
 */
import type { StreamOptions, UpstreamRequest, UpstreamTarget } from "../adapter.ts";
import type { ChatRequest } from "../types.ts";
import type { OpenAIAdapterOptions, WireBody } from "./options.ts";

/** Builds the `POST {baseUrl}/chat/completions` request for `req`. */
export function buildRequest(
  adapter: OpenAIAdapterOptions,
  req: ChatRequest,
  target: UpstreamTarget,
  options: StreamOptions,
): UpstreamRequest {
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

  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: req.stream ? "text/event-stream" : "application/json",
    ...adapter.headers?.(target),
  };
  if (target.apiKey) headers[adapter.auth.header] = adapter.auth.prefix + target.apiKey;
  return { url: `${target.baseUrl}/chat/completions`, headers, body: JSON.stringify(body) };
}

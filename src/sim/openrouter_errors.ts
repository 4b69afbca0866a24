/**
 * The simulated gateway's error answers, in OpenRouter's shape: `{error: {code, message,
 * metadata}}` with the HTTP status equal to `code`.
 */
import type { UpstreamError } from "../upstream/errors.ts";

/** An error in OpenRouter's shape: `{error: {code, message, metadata}}`. */
export function gatewayError(
  status: number,
  message: string,
  headers: Record<string, string> = {},
  metadata?: Record<string, unknown>,
): Response {
  return Response.json({ error: { code: status, message, ...(metadata ? { metadata } : {}) } }, {
    status,
    headers,
  });
}

/** OpenRouter's answer for a provider failure it could not route around. */
export function failureResponse(error: UpstreamError | undefined, provider: string): Response {
  const metadata = { provider_name: provider, raw: error?.message ?? null };
  switch (error?.kind) {
    case "rate_limited": {
      const seconds = Math.ceil((error.retryAfterMs ?? 1000) / 1000);
      return gatewayError(429, `${provider} is temporarily rate-limited upstream`, {
        "retry-after": String(seconds),
      }, metadata);
    }
    case "context_length":
    case "client_error":
      return gatewayError(400, error.message, {}, metadata);
    default:
      return gatewayError(502, "Provider returned error", {}, metadata);
  }
}

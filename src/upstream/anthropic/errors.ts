/**
 * Anthropic's error bodies (`{"type":"error","error":{"type","message"},"request_id"}`) read into
 * `UpstreamError` kinds. The error `type` is kept as `providerCode`, since it names the cause more
 * precisely than the status does (a 529 is `overloaded_error`, a 402 is `billing_error`).
 */
import { z } from "zod";
import {
  CONTEXT_LENGTH_PATTERN,
  kindForStatus,
  parseRetryAfter,
  UpstreamError,
  type UpstreamErrorKind,
} from "../errors.ts";

/** The error envelope of the Messages API, in HTTP error bodies and in `event: error`. */
export const AnthropicErrorSchema = z.looseObject({
  type: z.literal("error"),
  error: z.looseObject({ type: z.string(), message: z.string().optional() }),
  request_id: z.string().nullish(),
});
export type AnthropicError = z.infer<typeof AnthropicErrorSchema>;

/** Parses `text` as Anthropic's error envelope, or returns undefined. */
export function parseAnthropicError(text: string): AnthropicError | undefined {
  try {
    const parsed = AnthropicErrorSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The kind for an error `type` and status; the type wins where the status says too little. */
function kindFor(status: number, type: string | undefined, message: string): UpstreamErrorKind {
  switch (type) {
    case "overloaded_error":
    case "api_error":
    case "timeout_error":
      return "server_error";
    case "rate_limit_error":
      return "rate_limited";
    case "authentication_error":
    case "permission_error":
    // An account out of credit cannot serve any request, but another route's account may.
    case "billing_error":
      return "auth";
  }
  if (status === 402) return "auth";
  if (status === 400 && CONTEXT_LENGTH_PATTERN.test(message)) return "context_length";
  return kindForStatus(status);
}

/** Classifies a non-2xx reply from the Messages API. */
export function classifyError(status: number, body: string, headers: Headers): UpstreamError {
  const parsed = parseAnthropicError(body);
  const type = parsed?.error.type;
  const detail = parsed?.error.message ?? (body.trim().slice(0, 200) || "no body");
  return new UpstreamError(
    kindFor(status, type, detail),
    `Anthropic returned ${status}${type ? ` ${type}` : ""}: ${detail}`,
    { status, providerCode: type, retryAfterMs: parseRetryAfter(headers.get("retry-after")) },
  );
}

/**
 * An error that arrived where an answer was expected: an `event: error` mid-stream, or an error
 * envelope in a 200 body. Both are `error_in_body`; `providerCode` says which error it was.
 */
export function errorInBody(error: AnthropicError, status?: number): UpstreamError {
  return new UpstreamError(
    "error_in_body",
    `Anthropic sent ${error.error.type}: ${error.error.message ?? "no message"}`,
    { status, providerCode: error.error.type },
  );
}

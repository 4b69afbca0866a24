/**
 * What can go wrong talking to an upstream, as values with a kind. Adapters classify a provider's
 * own error bodies into these kinds; `routing/` decides from the kind whether to fall back.
 */

/** Every way an upstream attempt can fail. */
export type UpstreamErrorKind =
  /** DNS, refused, reset before a response. */
  | "connection"
  /** No response headers (or, streaming, no first event) within the route's first-byte timeout. */
  | "timeout_first_byte"
  /** A stream went quiet between events for longer than the idle timeout. */
  | "timeout_idle"
  /** The whole attempt exceeded the route's total timeout. */
  | "timeout_total"
  /** 429 from the provider. */
  | "rate_limited"
  /** 5xx (and Anthropic's 529). */
  | "server_error"
  /** 401/403: our key for that upstream is wrong. Another route may still serve. */
  | "auth"
  /** A 400 because the prompt does not fit the model's context window. */
  | "context_length"
  /** Any other 4xx: the request itself is at fault. */
  | "client_error"
  /** An error object inside a 200 body, or an SSE error event. */
  | "error_in_body"
  /** A body we could not parse as the provider's format. */
  | "malformed"
  /** The stream broke off (connection lost) before it completed. */
  | "stream_cut"
  /** No API key is set for the route and simulation is forbidden. */
  | "unavailable"
  /** The route's circuit breaker is open. */
  | "circuit_open"
  /** The fallback's context window cannot hold the prompt. */
  | "context_too_small"
  /** The client went away. */
  | "aborted";

/** An upstream attempt failed; `kind` says how. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
  readonly kind: UpstreamErrorKind;
  /** HTTP status from the upstream, when there was one. */
  readonly status?: number;
  /** Parsed `Retry-After`, in milliseconds. */
  readonly retryAfterMs?: number;
  /** The provider's own error type or code (e.g. `overloaded_error`, `RESOURCE_EXHAUSTED`). */
  readonly providerCode?: string;

  constructor(
    kind: UpstreamErrorKind,
    message: string,
    options: { status?: number; retryAfterMs?: number; providerCode?: string; cause?: unknown } =
      {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.providerCode = options.providerCode;
  }
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The error kind implied by an HTTP status alone, before any provider-specific reading. */
export function kindForStatus(status: number): UpstreamErrorKind {
  if (status === 429) return "rate_limited";
  if (status === 401 || status === 403) return "auth";
  if (status >= 500) return "server_error";
  return "client_error";
}

/** Matches the wording providers use for "prompt too long" 400s. */
export const CONTEXT_LENGTH_PATTERN =
  /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|input token count|exceeds the maximum/i;

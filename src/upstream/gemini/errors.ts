/**
 * Gemini's errors, classified. Google answers with `{"error": {code, message, status, details}}`
 * (a `google.rpc.Status`), where `status` is the canonical code name (`RESOURCE_EXHAUSTED`, …) and
 * `details` may carry a `RetryInfo` with the delay to wait.
 */
import {
  CONTEXT_LENGTH_PATTERN,
  kindForStatus,
  parseRetryAfter,
  UpstreamError,
  type UpstreamErrorKind,
} from "../errors.ts";
import { type GoogleError, GoogleErrorSchema } from "./wire.ts";

/** Google's error envelope in parsed JSON; the non-SSE stream wraps it in an array. */
export function googleErrorIn(json: unknown): GoogleError | undefined {
  const parsed = GoogleErrorSchema.safeParse(Array.isArray(json) ? json[0] : json);
  return parsed.success ? parsed.data.error : undefined;
}

/** Reads Google's error envelope from a body, if it is one. */
export function parseGoogleError(body: string): GoogleError | undefined {
  try {
    return googleErrorIn(JSON.parse(body));
  } catch {
    return undefined;
  }
}

/** Parses a protobuf JSON `Duration` (`"34s"`, `"1.5s"`) into milliseconds. */
function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** The delay a `google.rpc.RetryInfo` detail asks for, in milliseconds. */
function retryInfoMs(error: GoogleError): number | undefined {
  for (const detail of error.details ?? []) {
    if (detail["@type"]?.endsWith("google.rpc.RetryInfo")) {
      const ms = durationMs(detail.retryDelay);
      if (ms !== undefined) return ms;
    }
  }
  return undefined;
}

/** True when an `ErrorInfo` detail says the API key itself was refused. */
function isKeyRejected(error: GoogleError): boolean {
  return (error.details ?? []).some((d) =>
    d["@type"]?.endsWith("google.rpc.ErrorInfo") &&
    typeof d.reason === "string" && /^API_KEY_/.test(d.reason)
  ) || /API key not valid|API Key not found/i.test(error.message ?? "");
}

/** The kind an error's canonical status implies, falling back to the HTTP status. */
function kindFor(httpStatus: number, error: GoogleError | undefined): UpstreamErrorKind {
  switch (error?.status) {
    case "RESOURCE_EXHAUSTED":
      return "rate_limited";
    case "UNAVAILABLE":
    case "INTERNAL":
    case "DEADLINE_EXCEEDED":
    case "UNKNOWN":
      return "server_error";
    case "UNAUTHENTICATED":
    case "PERMISSION_DENIED":
      return "auth";
    case "INVALID_ARGUMENT":
    case "FAILED_PRECONDITION":
      // Google answers a wrong key with 400 INVALID_ARGUMENT, not 401.
      if (isKeyRejected(error)) return "auth";
      if (CONTEXT_LENGTH_PATTERN.test(error.message ?? "")) return "context_length";
      return "client_error";
  }
  return kindForStatus(httpStatus);
}

/** Classifies a non-2xx reply from Gemini. */
export function geminiError(status: number, body: string, headers: Headers): UpstreamError {
  const error = parseGoogleError(body);
  const retryAfterMs = parseRetryAfter(headers.get("retry-after")) ??
    (error ? retryInfoMs(error) : undefined);
  const message = error?.message ?? (body.trim().slice(0, 300) || `HTTP ${status}`);
  return new UpstreamError(kindFor(status, error), `Gemini: ${message}`, {
    status,
    retryAfterMs,
    providerCode: error?.status,
  });
}

/** An error object Gemini put inside a 200 body or an SSE event. */
export function errorInBody(error: GoogleError): UpstreamError {
  const code = error.code === undefined ? "" : ` (${error.code})`;
  return new UpstreamError(
    "error_in_body",
    `Gemini: ${error.message ?? "error in response body"}${code}`,
    { providerCode: error.status, retryAfterMs: retryInfoMs(error) },
  );
}

/** A 2xx body that is not Gemini's format. */
export function malformed(detail: string, cause?: unknown): UpstreamError {
  return new UpstreamError("malformed", `Gemini: ${detail}`, { cause });
}

/**
 * Reads the error bodies OpenAI-compatible upstreams send: OpenAI's `{error:{message,type,code}}`,
 * OpenRouter's `{error:{code:number,message,metadata}}`, and Mistral's and vLLM's flat
 * `{object:"error",message,type,code}` (where `message` may itself be an object).
 */
import { z } from "zod";
import {
  CONTEXT_LENGTH_PATTERN,
  kindForStatus,
  parseRetryAfter,
  UpstreamError,
} from "../errors.ts";

const Code = z.union([z.string(), z.number()]).nullish();
const Nested = z.looseObject({
  error: z.looseObject({ message: z.unknown().optional(), type: Code, code: Code }),
});
const Flat = z.looseObject({
  message: z.unknown().optional(),
  detail: z.unknown().optional(),
  type: Code,
  code: Code,
});

/** What an error body says, whatever its shape. */
export interface ErrorDetail {
  message: string;
  /** The provider's `code`, else its `type`. */
  code?: string;
}

function text(value: unknown): string | undefined {
  if (value == null) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Extracts message and code from an error body; undefined when it is no error object. */
export function readErrorDetail(value: unknown): ErrorDetail | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const bare = (value as { error?: unknown }).error;
  if (typeof bare === "string") return { message: bare };
  const nested = Nested.safeParse(value);
  if (nested.success) {
    const { message, code, type } = nested.data.error;
    return { message: text(message) ?? "Upstream error", code: text(code ?? type) };
  }
  const flat = Flat.safeParse(value);
  if (flat.success && (flat.data.object === "error" || flat.data.message || flat.data.detail)) {
    const { message, detail, code, type } = flat.data;
    return { message: text(message ?? detail) ?? "Upstream error", code: text(code ?? type) };
  }
  return undefined;
}

/** An `error` object (or Mistral/vLLM's `object: "error"`) found in a 2xx body or SSE event. */
export function errorInBody(value: unknown): UpstreamError | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.error == null && record.object !== "error") return undefined;
  const detail = readErrorDetail(value) ?? { message: "Upstream error" };
  return new UpstreamError("error_in_body", detail.message, { providerCode: detail.code });
}

/** Classifies a non-2xx reply. */
export function classifyError(status: number, body: string, headers: Headers): UpstreamError {
  let detail: ErrorDetail | undefined;
  try {
    detail = readErrorDetail(JSON.parse(body));
  } catch {
    // Not JSON (a proxy's HTML page): the status alone decides.
  }
  const message = detail?.message ?? (body.trim().slice(0, 200) || `HTTP ${status}`);
  let kind = kindForStatus(status);
  if (
    (status === 400 || status === 413) &&
    (detail?.code === "context_length_exceeded" || CONTEXT_LENGTH_PATTERN.test(message))
  ) {
    kind = "context_length";
  }
  const retryAfterMs = retryAfter(headers);
  return new UpstreamError(kind, message, { status, retryAfterMs, providerCode: detail?.code });
}

/** `retry-after-ms` (Azure, OpenAI) is more precise than `retry-after`, so it wins. */
function retryAfter(headers: Headers): number | undefined {
  const ms = Number(headers.get("retry-after-ms") ?? NaN);
  return Number.isFinite(ms) ? Math.max(0, ms) : parseRetryAfter(headers.get("retry-after"));
}

/**
 * Errors a client can receive, as values with a kind. One function (`errorResponse`) turns any of
 * them into OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, so no handler
 * has a catch-all of its own.
 */

/** An error with an HTTP status and OpenAI's `type`/`code`/`param`. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  /** Extra fields inside `error` (e.g. the attempts of a 503). */
  readonly details: Record<string, unknown>;

  constructor(
    status: number,
    message: string,
    options: {
      type?: string;
      code?: string | null;
      param?: string | null;
      headers?: Record<string, string>;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.status = status;
    this.type = options.type ?? typeForStatus(status);
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }

  /** The OpenAI error body. */
  body(): { error: Record<string, unknown> } {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: this.code,
        ...this.details,
      },
    };
  }
}

/** OpenAI's error `type` for a status. */
export function typeForStatus(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return status === 503 ? "service_unavailable" : "server_error";
  return "invalid_request_error";
}

/** 400 for a malformed or invalid body; `param` names the field. */
export function invalidRequest(message: string, param: string | null = null, code?: string) {
  return new ApiError(400, message, { param, code: code ?? "invalid_request" });
}

/** Turns any error into an OpenAI-shaped JSON response. Unknown errors become a bare 500. */
export function errorResponse(
  error: unknown,
  headers: Record<string, string> = {},
): Response {
  const apiError = error instanceof ApiError
    ? error
    : new ApiError(500, "Internal error in Switchyard", { code: "internal_error" });
  headers["content-type"] = "application/json";
  Object.assign(headers, apiError.headers);
  return new Response(JSON.stringify(apiError.body()), { status: apiError.status, headers });
}

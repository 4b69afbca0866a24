/** Request and trace identifiers: kept from the client when sane, generated otherwise. */

const SAFE_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** The client's `x-request-id` when it is a sane token, else a new UUID. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given && SAFE_ID.test(given) ? given : crypto.randomUUID();
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a W3C `traceparent`, when valid. */
export function traceIdFromParent(traceparent: string | null): string | undefined {
  const match = traceparent?.match(TRACEPARENT);
  return match && !/^0+$/.test(match[1]) ? match[1] : undefined;
}

/** 32 random hex digits: a trace id when no tracing is active. */
export function randomTraceId(): string {
  // A v4 UUID is 122 random bits in 32 hex digits: generated natively, it is the cheapest source.
  return crypto.randomUUID().replaceAll("-", "");
}

/**
 * Tracing for the simulated upstreams, so that a trace shows router → gateway → provider as
 * separate services. Deno instruments the node:http server the simulators run on with a bare
 * `POST` server span, but does not make it the active context for the handler; so each request's
 * `traceparent` is extracted here and a `simulate …` span opened as the parent of the simulator's
 * own work — the gateway's routing span and its call to the provider (which Deno's fetch
 * instrumentation then carries onward).
 */
import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { SPAN } from "../telemetry/names.ts";

const tracer = trace.getTracer("switchyard-sim");

/** True when OpenTelemetry is exporting (Deno registers the W3C propagator only then). */
export function tracingActive(): boolean {
  return propagation.fields().length > 0;
}

/** Opens the span of one simulated request, continuing the caller's trace. */
export function startServerSpan(
  method: string,
  path: string,
  headers: Headers,
): { span: Span; context: Context } | undefined {
  if (!tracingActive()) return undefined;
  const route = path.replace(/\?.*$/, "");
  const carrier: Record<string, string> = {};
  headers.forEach((value, name) => carrier[name] = value);
  const parent = propagation.extract(context.active(), carrier);
  const span = tracer.startSpan(SPAN.simulate(`${method} ${route}`), {
    kind: SpanKind.INTERNAL,
    attributes: { "http.request.method": method, "url.path": route, "http.route": route },
  }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a simulated request's server span with its status. */
export function endServerSpan(span: Span | undefined, status: number | "reset"): void {
  if (!span) return;
  if (status === "reset") {
    span.setStatus({ code: SpanStatusCode.ERROR, message: "connection reset (simulated)" });
  } else {
    span.setAttribute("http.response.status_code", status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Times the gateway's own routing work as a span of its own. */
export async function gatewayWork<T>(fn: () => Promise<T>): Promise<T> {
  if (!tracingActive()) return await fn();
  const span = tracer.startSpan(SPAN.gatewayRoute);
  try {
    return await fn();
  } finally {
    span.end();
  }
}

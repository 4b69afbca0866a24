/**
 * The HTTP client span of an upstream request sent by Switchyard's own client (Deno instruments
 * only `fetch`): a `POST` span under the attempt span, per the OpenTelemetry HTTP conventions,
 * whose context goes upstream as `traceparent` — so a provider's (or a simulator's) spans nest
 * under it, as they did under Deno's fetch span. It ends when the response head arrives.
 */
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Destination } from "../upstream/http1/client.ts";
import { afterThisTurn, epochNow } from "./after_turn.ts";
import { ATTR, TRACER_NAME } from "./names.ts";

const tracer = trace.getTracer(TRACER_NAME);

/**
 * Runs `send` inside an HTTP client span. `headers` gets the span's `traceparent`. The span's
 * end (and its status) is recorded after this turn, at the time the head arrived.
 */
export async function traceHttpRequest<T extends { status: number }>(
  destination: Destination,
  headers: Record<string, string>,
  send: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan("POST", {
    kind: SpanKind.CLIENT,
    startTime: epochNow(),
    attributes: {
      [ATTR.httpRequestMethod]: "POST",
      [ATTR.serverAddress]: destination.address,
      [ATTR.serverPort]: destination.port,
      // Without the query: keys never go there today, but a URL's query is no place to trust.
      [ATTR.urlFull]: destination.urlWithoutQuery,
      [ATTR.networkProtocolVersion]: "1.1",
    },
  }, context.active());
  const { traceId, spanId, traceFlags } = span.spanContext();
  const traced = {
    ...headers,
    traceparent: `00-${traceId}-${spanId}-${(traceFlags & 1) === 1 ? "01" : "00"}`,
  };
  try {
    const response = await send(traced);
    const ended = epochNow();
    afterThisTurn(() => {
      span.setAttribute(ATTR.httpResponseStatusCode, response.status);
      if (response.status >= 400) {
        span.setAttribute(ATTR.errorType, String(response.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end(ended);
    });
    return response;
  } catch (error) {
    const ended = epochNow();
    afterThisTurn(() => {
      span.setAttribute(ATTR.errorType, error instanceof Error ? error.name : "Error");
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      span.end(ended);
    });
    throw error;
  }
}

/**
 * Our spans, under Deno's own (`OTEL_DENO=true`): the server span gets its route name, the
 * decision gets `policy.decide`, and every upstream attempt gets a GenAI client span that lasts
 * until the last streamed byte, with an event at the first token. Deno's fetch span nests under
 * the attempt and carries its `traceparent` upstream. With telemetry off, the API is a no-op.
 *
 * Prompt and completion text are recorded only when content capture is switched on.
 */
import { context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { costOf } from "../budget/cost.ts";
import type { Decision } from "../policy/decide.ts";
import type { AttemptEnd, AttemptObserver, AttemptRecord } from "../routing/execute.ts";
import type { RouteRuntime } from "../routing/runtime.ts";
import type { ChatRequest } from "../upstream/types.ts";
import { REQUESTED_MODEL } from "../policy/types.ts";
import type { GatewayStatsFetcher } from "./gateway_stats.ts";
import { telemetryActive } from "./active.ts";
import { afterThisTurn, epochNow } from "./after_turn.ts";
import { recordAttemptMetrics } from "./metrics.ts";
import { ATTR, EVENT, SPAN, SY, TRACER_NAME } from "./names.ts";

const tracer = trace.getTracer(TRACER_NAME);

/** Names Deno's server span after the route, as Deno leaves it as the bare method. */
export function nameServerSpan(method: string, route: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute(ATTR.httpRoute, route);
}

/** The active trace id, when tracing is on. */
export function activeTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? context.traceId : undefined;
}

/** Sets attributes on the server span (overhead, attempts, gateway attributes). */
export function annotateServerSpan(attributes: Record<string, string | number | string[]>): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Marks the server span as failed (Deno does not for handled errors). */
export function failServerSpan(status: number, type: string): void {
  const span = trace.getActiveSpan();
  if (!span || status < 500) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  span.setAttribute(ATTR.errorType, type);
}

/**
 * Runs the decision inside a `policy.decide` span. The span's attributes and its end are recorded
 * after this turn of the event loop (after_turn.ts), at the time the decision ended.
 */
export async function traceDecision(
  run: () => Promise<Decision>,
): Promise<Decision> {
  if (!telemetryActive()) return await run();
  const span = tracer.startSpan(SPAN.decide, { startTime: epochNow() });
  let decision: Decision | undefined;
  try {
    decision = await run();
    return decision;
  } finally {
    const ended = epochNow();
    const made = decision;
    afterThisTurn(() => {
      if (made) {
        span.setAttributes({
          [SY.policyName]: made.policy.name,
          [SY.policyVersion]: made.policy.version,
          [SY.policyHash]: made.policy.hash,
          [SY.rule]: made.rule ?? "(default)",
          [SY.route]: made.route,
          [SY.via]: made.via,
          [SY.rulesEvaluated]: made.trace.length,
          [SY.decisionUs]: made.micros,
        });
        for (const entry of made.trace) {
          if (entry.result === "error") {
            span.addEvent(EVENT.ruleError, {
              [SY.ruleName]: entry.rule,
              [SY.ruleMessage]: entry.error ?? "",
            }, ended);
          }
        }
      }
      span.end(ended);
    });
  }
}

export interface AttemptTracingOptions {
  request: ChatRequest;
  /** Record prompt and completion text (opt-in). */
  captureContent: boolean;
  /** Where attempts through stats-reporting gateways hand their spans to be completed. */
  gatewayStats?: GatewayStatsFetcher;
}

/** An AttemptObserver that makes one GenAI client span per attempt, and records metrics. */
export function attemptTracer(options: AttemptTracingOptions): AttemptObserver {
  const { request } = options;
  return {
    start(runtime: RouteRuntime, record: AttemptRecord) {
      const started = performance.now();
      const model = runtime.route.model === REQUESTED_MODEL ? request.model : runtime.route.model;
      const span: Span = tracer.startSpan(SPAN.attempt(model), {
        kind: SpanKind.CLIENT,
        startTime: epochNow(),
        attributes: {
          [ATTR.genAiOperation]: "chat",
          [ATTR.genAiProvider]: runtime.adapter.genAiProviderName,
          [ATTR.genAiRequestModel]: model,
          [ATTR.genAiRequestStream]: request.stream === true,
          [ATTR.serverAddress]: runtime.server.address,
          [ATTR.serverPort]: runtime.server.port,
          [SY.route]: runtime.route.name,
          [SY.via]: runtime.route.via,
          [SY.attempt]: record.attempt,
          [SY.simulated]: runtime.simulated,
        },
      });
      const maxTokens = request.max_completion_tokens ?? request.max_tokens;
      if (maxTokens != null) span.setAttribute(ATTR.genAiRequestMaxTokens, maxTokens);
      if (request.temperature != null) {
        span.setAttribute(ATTR.genAiRequestTemperature, request.temperature);
      }
      if (record.fallbackReason) span.setAttribute(SY.fallbackReason, record.fallbackReason);
      if (options.captureContent) {
        span.setAttribute(ATTR.genAiInputMessages, JSON.stringify(request.messages));
      }
      const spanContext = trace.setSpan(context.active(), span);
      let ttftMs: number | undefined;

      /** Everything known once the attempt ended, and the span's end; run off the answer's path. */
      const endAttempt = (
        outcome: AttemptRecord["outcome"],
        details: AttemptEnd,
        durationMs: number,
        endTime: number,
      ) => {
        if (details.responseModel) {
          span.setAttribute(ATTR.genAiResponseModel, details.responseModel);
        }
        if (details.responseId) span.setAttribute(ATTR.genAiResponseId, details.responseId);
        if (details.finishReasons?.length) {
          span.setAttribute(ATTR.genAiFinishReasons, details.finishReasons);
        }
        if (details.servedBy) span.setAttribute(SY.gatewayProvider, details.servedBy);
        let costUsd: number | undefined;
        if (details.usage) {
          span.setAttribute(ATTR.genAiInputTokens, details.usage.input_tokens);
          span.setAttribute(ATTR.genAiOutputTokens, details.usage.output_tokens);
          const cost = costOf(details.usage, runtime.route.price);
          costUsd = cost.usd;
          span.setAttribute(SY.costUsd, cost.usd);
          span.setAttribute(SY.costSource, cost.source);
        }
        span.setAttribute(SY.outcome, outcome);
        if (options.captureContent && (details.output || details.outputText !== undefined)) {
          span.setAttribute(
            ATTR.genAiOutputMessages,
            JSON.stringify(
              details.output ?? [{ role: "assistant", content: details.outputText }],
            ),
          );
        }
        if (details.error) {
          span.setAttribute(ATTR.errorType, details.error.kind);
          span.setStatus({ code: SpanStatusCode.ERROR, message: details.error.message });
        }
        const generationId = details.responseId;
        if (
          options.gatewayStats && generationId && !details.error && span.isRecording() &&
          runtime.adapter.generationStats
        ) {
          options.gatewayStats.schedule({
            span,
            endTime,
            adapter: runtime.adapter,
            target: runtime.target,
            generationId,
            observedMs: durationMs,
            route: runtime.route.name,
          });
        } else {
          span.end(endTime);
        }
        recordAttemptMetrics({
          runtime,
          durationMs,
          ttftMs,
          usage: details.usage,
          costUsd,
          errorType: details.error?.kind,
        });
      };

      return {
        run: (fn) => context.with(spanContext, fn),
        firstToken() {
          ttftMs = performance.now() - started;
          const at = epochNow();
          const ttft = ttftMs / 1000;
          afterThisTurn(() => {
            span.addEvent(EVENT.firstToken, at);
            span.setAttribute(ATTR.genAiTimeToFirstChunk, ttft);
          });
        },
        end(final: AttemptRecord, details: AttemptEnd) {
          const durationMs = performance.now() - started;
          const endTime = epochNow();
          const outcome = final.outcome;
          // Off the answer's path, at the time it ended.
          afterThisTurn(() => endAttempt(outcome, details, durationMs, endTime));
        },
      };
    },
  };
}

/**
 * OTel metrics, following the GenAI conventions where they exist: operation duration, token
 * usage and time to first chunk per provider, model, route and via; and ours for decision time,
 * Switchyard's own overhead, fallbacks and cost. Instruments are created once, at load. Points
 * of the request path are added after the turn that answers it (after_turn.ts).
 */
import { metrics } from "@opentelemetry/api";
import { telemetryActive } from "./active.ts";
import { afterThisTurn } from "./after_turn.ts";
import type { RouteRuntime } from "../routing/runtime.ts";
import type { NormalizedUsage } from "../upstream/types.ts";
import type { OriginConnections } from "../upstream/http1/client.ts";
import { ATTR, METRIC, SY, TRACER_NAME } from "./names.ts";

const meter = metrics.getMeter(TRACER_NAME);

/** Second-scale buckets for LLM calls, as the GenAI conventions advise. */
const SECONDS = [
  0.01,
  0.02,
  0.04,
  0.08,
  0.16,
  0.32,
  0.64,
  1.28,
  2.56,
  5.12,
  10.24,
  20.48,
  40.96,
  81.92,
];
const MILLIS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250];

const operationDuration = meter.createHistogram(METRIC.operationDuration, {
  unit: "s",
  description: "Duration of one upstream chat attempt, to the last streamed byte",
  advice: { explicitBucketBoundaries: SECONDS },
});
const tokenUsage = meter.createHistogram(METRIC.tokenUsage, {
  unit: "{token}",
  description: "Tokens used per attempt, by gen_ai.token.type",
  advice: {
    explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576],
  },
});
const timeToFirstChunk = meter.createHistogram(METRIC.timeToFirstChunk, {
  unit: "s",
  description: "Time from sending a streaming attempt to its first content",
  advice: { explicitBucketBoundaries: SECONDS },
});
const decisionDuration = meter.createHistogram(METRIC.decisionDuration, {
  unit: "ms",
  description: "Time to evaluate the policy for one request",
  advice: { explicitBucketBoundaries: MILLIS },
});
const overhead = meter.createHistogram(METRIC.overhead, {
  unit: "ms",
  description: "Switchyard's own time per request: total minus time waiting on upstreams",
  advice: { explicitBucketBoundaries: MILLIS },
});
const fallbacks = meter.createCounter(METRIC.fallbacks, {
  description: "Requests served by a fallback, by the route that failed and the one that served",
});
const cost = meter.createCounter(METRIC.cost, {
  unit: "USD",
  description: "Spend by route and via",
});

/** Records one finished attempt. */
export function recordAttemptMetrics(attempt: {
  runtime: RouteRuntime;
  durationMs: number;
  ttftMs?: number;
  usage?: NormalizedUsage;
  costUsd?: number;
  errorType?: string;
}): void {
  const { runtime } = attempt;
  const attributes: Record<string, string> = {
    [ATTR.genAiOperation]: "chat",
    [ATTR.genAiProvider]: runtime.adapter.genAiProviderName,
    [ATTR.genAiRequestModel]: runtime.route.model,
    [SY.route]: runtime.route.name,
    [SY.via]: runtime.route.via,
  };
  operationDuration.record(
    attempt.durationMs / 1000,
    attempt.errorType ? { ...attributes, [ATTR.errorType]: attempt.errorType } : attributes,
  );
  if (attempt.ttftMs !== undefined) timeToFirstChunk.record(attempt.ttftMs / 1000, attributes);
  if (attempt.usage) {
    tokenUsage.record(attempt.usage.input_tokens, {
      ...attributes,
      [ATTR.genAiTokenType]: "input",
    });
    tokenUsage.record(attempt.usage.output_tokens, {
      ...attributes,
      [ATTR.genAiTokenType]: "output",
    });
  }
  if (attempt.costUsd !== undefined && attempt.costUsd > 0) {
    cost.add(attempt.costUsd, { [SY.route]: runtime.route.name, [SY.via]: runtime.route.via });
  }
}

/** Records the decision time of one request. */
export function recordDecision(micros: number, policy: string, rule: string): void {
  if (!telemetryActive()) return;
  afterThisTurn(() =>
    decisionDuration.record(micros / 1000, { [SY.policyName]: policy, [SY.rule]: rule })
  );
}

/** Records Switchyard's own time for one request. */
export function recordOverhead(ms: number, route: string, via: string): void {
  if (!telemetryActive()) return;
  afterThisTurn(() => overhead.record(ms, { [SY.route]: route, [SY.via]: via }));
}

const gatewayOverhead = meter.createHistogram(METRIC.gatewayOverhead, {
  unit: "ms",
  description: "The gateway's own time per request, as reported by it: observed − generation",
  advice: { explicitBucketBoundaries: [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000] },
});

/** Records a gateway's own overhead for one request. */
export function recordGatewayOverhead(ms: number, route: string): void {
  gatewayOverhead.record(ms, { [SY.route]: route });
}

const shadowDecisions = meter.createCounter(METRIC.shadowDecisions, {
  description: "Shadow-policy decisions: agreements and flips, by real and shadow route",
});

/** Counts one shadow decision against the real one. */
export function recordShadow(realRoute: string, shadowRoute: string): void {
  if (!telemetryActive()) return;
  shadowDecisions.add(1, {
    "switchyard.shadow.agree": realRoute === shadowRoute,
    "switchyard.route": realRoute,
    "switchyard.shadow.route": shadowRoute,
  });
}

const budgetRemaining = meter.createGauge(METRIC.budgetRemaining, {
  unit: "USD",
  description: "What is left of the tightest budget that applied to the latest request",
});

/** Records the remaining amount of a budget, as seen by a request. */
export function recordBudgetRemaining(budget: string, window: string, remainingUsd: number): void {
  if (!telemetryActive()) return;
  afterThisTurn(() =>
    budgetRemaining.record(remainingUsd, {
      "switchyard.budget": budget,
      "switchyard.window": window,
    })
  );
}

/** Exports the decision log's write failures as a counter (observed at each collection). */
export function observeDecisionLogFailures(writeErrors: () => number): void {
  if (!telemetryActive()) return;
  meter.createObservableCounter(METRIC.decisionLogFailures, {
    description: "Failed decision-log writes (the records are held and retried)",
  }).addCallback((result) => result.observe(writeErrors()));
}

/**
 * Reports the upstream client's open connections per origin and state, read when metrics are
 * collected: nothing is recorded per request.
 */
export function observeUpstreamConnections(read: () => OriginConnections[]): void {
  if (!telemetryActive()) return;
  meter.createObservableUpDownCounter(METRIC.openConnections, {
    description: "Open upstream connections of Switchyard's HTTP/1.1 client, by state",
    unit: "{connection}",
  }).addCallback((result) => {
    for (const origin of read()) {
      for (const state of ["active", "idle"] as const) {
        result.observe(origin[state], {
          "http.connection.state": state,
          [ATTR.serverAddress]: origin.address,
          [ATTR.serverPort]: origin.port,
        });
      }
    }
  });
}

/** Counts a request served by a fallback. */
export function recordFallback(from: string, to: string): void {
  if (!telemetryActive()) return;
  afterThisTurn(() =>
    fallbacks.add(1, { "switchyard.from_route": from, "switchyard.to_route": to })
  );
}

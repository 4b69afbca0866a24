/**
 * One decision-log record per decided request, and the shadow policy's would-be decision beside
 * the real one. Both happen off the response path: the shadow decides in a later task, and the
 * log's `append` only buffers (its writer flushes on a timer).
 */
import type { Facts } from "../facts/facts.ts";
import { decide, type Decision } from "../policy/decide.ts";
import { DECISION_LOG_VERSION, type DecisionRecord } from "../log/record.ts";
import { loggedDecision, redactFacts } from "../log/redact.ts";
import type { AttemptRecord } from "../routing/execute.ts";
import type { ActivePolicy } from "../routing/runtime.ts";
import { recordShadow } from "../telemetry/metrics.ts";
import type { NormalizedUsage } from "../upstream/types.ts";
import type { ServerContext } from "./context.ts";
import type { RequestIds } from "./request.ts";

/** Agreements and flips between the real and the shadow policy, for /v1/policy. */
export class ShadowStats {
  agree = 0;
  disagree = 0;
  /** `real → shadow` route pairs that differed, with counts. */
  readonly flips: Record<string, number> = {};

  record(real: string, shadow: string): void {
    if (real === shadow) this.agree++;
    else {
      this.disagree++;
      const pair = `${real} → ${shadow}`;
      this.flips[pair] = (this.flips[pair] ?? 0) + 1;
    }
  }
}

/** What a request did, gathered as it runs, for its log record. */
export interface Outcome {
  ids: RequestIds;
  started: number;
  active?: ActivePolicy;
  facts?: Facts;
  decision?: Decision;
  shadow?: Promise<Decision | undefined>;
  stickyKey?: string;
  attempts: AttemptRecord[];
  servedBy?: string;
  status?: number;
  streamError?: string;
  usage?: NormalizedUsage;
  usageEstimated?: boolean;
  cost?: { usd: number; source: "computed" | "reported" };
}

/**
 * The shadow policy's decision for the same facts, computed in a later task so the real
 * response never waits on it; counted as an agreement or a flip by route pair.
 */
export function shadowDecision(
  ctx: ServerContext,
  facts: Facts,
  stickyKey: string,
  real: Decision,
): Promise<Decision | undefined> | undefined {
  const shadow = ctx.shadow?.current;
  if (!shadow) return undefined;
  return new Promise((resolve) => {
    setTimeout(async () => {
      try {
        const decision = await decide(shadow.policy, facts, { stickyKey });
        recordShadow(real.route, decision.route);
        ctx.shadowStats.record(real.route, decision.route);
        resolve(decision);
      } catch (error) {
        ctx.log(`shadow policy failed to decide: ${error}`);
        resolve(undefined);
      }
    }, 0);
  });
}

/** Builds the record and hands it to the log (after the shadow decided, if there is one). */
export function recordDecisionLog(ctx: ServerContext, outcome: Outcome): void {
  const log = ctx.decisionLog;
  const { facts, decision, active } = outcome;
  if (!log || !facts || !decision || !active) return;
  const durationMs = Math.round((performance.now() - outcome.started) * 100) / 100;
  const write = (shadow?: Decision) => {
    const p = active.policy;
    const record: DecisionRecord = {
      v: DECISION_LOG_VERSION,
      ts: new Date().toISOString(),
      request_id: outcome.ids.requestId,
      trace_id: outcome.ids.traceId,
      policy: { name: p.name, version: p.version, hash: p.hash },
      facts: redactFacts(facts, ctx.logSalt),
      decision: loggedDecision(decision),
      attempts: outcome.attempts.map((a) => ({
        route: a.route,
        via: a.via,
        outcome: a.skipped ? `skipped:${a.outcome}` : a.outcome,
        latency_ms: a.latencyMs,
        ...(a.ttftMs !== undefined ? { ttft_ms: a.ttftMs } : {}),
        ...(a.status !== undefined ? { status: a.status } : {}),
      })),
      status: outcome.status ?? 0,
      duration_ms: durationMs,
    };
    if (outcome.stickyKey) record.sticky_key = outcome.stickyKey;
    if (shadow) record.shadow = { ...loggedDecision(shadow), policy: shadow.policy };
    if (outcome.servedBy) record.served_by = outcome.servedBy;
    if (outcome.usage) {
      record.usage = {
        input_tokens: outcome.usage.input_tokens,
        output_tokens: outcome.usage.output_tokens,
        cached_input_tokens: outcome.usage.cached_input_tokens,
      };
      if (outcome.usageEstimated) record.usage_estimated = true;
    }
    if (outcome.cost) {
      record.cost_usd = outcome.cost.usd;
      record.cost_source = outcome.cost.source;
    }
    log.append(record);
  };
  if (outcome.shadow) outcome.shadow.then(write);
  else write();
}

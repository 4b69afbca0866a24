/**
 * `POST /v1/chat/completions`: authenticate, read and parse the body, build the facts (budgets
 * included), decide, admit against budgets, execute the decision (route, then fallbacks), settle
 * the spend, and answer as OpenAI does — JSON, or SSE chunks forwarded as they arrive. Every
 * response, errors included, carries the request id, the trace id and the routing headers; every
 * request ends with one decision-log record, written off the response path.
 */
import { costOf } from "../budget/cost.ts";
import type { Reservation } from "../budget/store.ts";
import { buildFacts, type CallerFacts, type Facts } from "../facts/facts.ts";
import { decide, type Decision } from "../policy/decide.ts";
import { type AttemptRecord, execute, type ExecuteResult } from "../routing/execute.ts";
import type { ActivePolicy, RouteRuntime } from "../routing/runtime.ts";
import type { UpstreamError } from "../upstream/errors.ts";
import type { NormalizedUsage } from "../upstream/types.ts";
import { telemetryActive } from "../telemetry/active.ts";
import {
  recordBudgetRemaining,
  recordDecision,
  recordFallback,
  recordOverhead,
} from "../telemetry/metrics.ts";
import { ATTR, SY } from "../telemetry/names.ts";
import {
  annotateServerSpan,
  attemptTracer,
  failServerSpan,
  traceDecision,
} from "../telemetry/spans.ts";
import { addBudgetFacts, admit, usageToAccount } from "./accounting.ts";
import { callerOf } from "./auth.ts";
import { readBody } from "./body.ts";
import type { ServerContext } from "./context.ts";
import { type Outcome, recordDecisionLog, shadowDecision } from "./decision_log.ts";
import { ApiError, errorResponse } from "./errors.ts";
import type { ResponseHeaders } from "./app.ts";
import { readChatRequest, type RequestIds, stickyKeyOf } from "./request.ts";
import { clientStream } from "./stream.ts";

/** A caller with no key (client keys are off). */
const ANONYMOUS: CallerFacts = { tags: [] };

/** Sets the routing headers chat responses carry (unless `--response-headers minimal`). */
function routingHeaders(headers: ResponseHeaders, active: ActivePolicy, decision: Decision) {
  headers["x-switchyard-policy"] = active.policyHeader;
  headers["x-switchyard-rule"] = decision.rule ?? "(default)";
  headers["x-switchyard-route"] = decision.route;
  headers["x-switchyard-via"] = decision.via;
}

/**
 * Sets the headers that depend on what was tried (`tried`: the attempts that were not skipped).
 * Whether a simulator answered is said even with minimal headers: a client must be able to tell.
 */
function attemptHeaders(
  headers: ResponseHeaders,
  active: ActivePolicy,
  tried: AttemptRecord[],
  routing: boolean,
) {
  const served = tried.at(-1);
  if (served && active.routes[served.route]?.simulated) headers["x-switchyard-simulated"] = "true";
  if (!routing) return;
  headers["x-switchyard-attempts"] = String(tried.length);
  if (served) {
    headers["x-switchyard-route"] = served.route;
    headers["x-switchyard-via"] = served.via;
  }
}

/** Describes one attempt for the 503 message. */
function describeAttempt(a: AttemptRecord): string {
  const what = a.skipped
    ? `skipped (${a.outcome})`
    : a.outcome + (a.status ? ` (HTTP ${a.status})` : "");
  return `${a.route}${a.attempt > 1 ? ` #${a.attempt}` : ""}: ${what}${
    a.message ? ` — ${a.message}` : ""
  }`;
}

/** The client-facing error when execution failed. */
export function failureError(error: UpstreamError, attempts: AttemptRecord[]): ApiError {
  const details = {
    attempts: attempts.map((a) => ({
      route: a.route,
      via: a.via,
      outcome: a.outcome,
      skipped: a.skipped ?? false,
      status: a.status ?? null,
      message: a.message ?? null,
    })),
  };
  // The request itself was at fault (and the route does not fall back on it): say so.
  if (error.kind === "client_error" || error.kind === "context_length") {
    return new ApiError(
      error.status ?? 400,
      `The upstream rejected the request: ${error.message}`,
      {
        type: "invalid_request_error",
        code: error.kind === "context_length" ? "context_length_exceeded" : "upstream_rejected",
        details,
      },
    );
  }
  return new ApiError(
    503,
    `No route could serve this request. ${attempts.map(describeAttempt).join("; ")}`,
    { code: "no_route_available", headers: { "retry-after": "1" }, details },
  );
}

/** The completions handler. */
export async function chatCompletions(
  request: Request,
  ctx: ServerContext,
  ids: RequestIds,
  headers: ResponseHeaders,
): Promise<Response> {
  const started = performance.now();
  const outcome: Outcome = { ids, started, attempts: [] };
  let reservation: Reservation | undefined;
  try {
    const caller = ctx.auth?.enabled ? (await callerOf(request, ctx.auth)) ?? ANONYMOUS : ANONYMOUS;
    const { request: body, raw } = readChatRequest(
      await readBody(request, ctx.config.maxBodyBytes),
    );
    const active = ctx.policies.current;
    outcome.active = active;
    if (!active.policy.acceptsModel(body.model)) {
      throw new ApiError(
        404,
        `The model \`${body.model}\` does not exist or is not served here; use \`auto\` or see GET /v1/models`,
        { param: "model", code: "model_not_found" },
      );
    }
    ctx.refreshHealth(active);
    const facts: Facts = buildFacts(body, {
      headers: request.headers,
      caller,
      routes: active.routeFacts,
    });
    if (ctx.ledger) await addBudgetFacts(ctx.ledger, caller, facts);
    outcome.facts = facts;
    const stickyKey = stickyKeyOf(body, request, ids);
    if (stickyKey !== body.user && stickyKey !== ids.requestId) outcome.stickyKey = stickyKey;
    const decision = await traceDecision(() => decide(active.policy, facts, { stickyKey }));
    outcome.decision = decision;
    // The candidate policy decides too, off the critical path; only the log sees its answer.
    outcome.shadow = shadowDecision(ctx, facts, stickyKey, decision);
    recordDecision(decision.micros, active.policy.name, decision.rule ?? "(default)");
    const routing = ctx.config.responseHeaders === "full";
    if (routing) routingHeaders(headers, active, decision);
    if (facts.budget.remaining_usd !== undefined && telemetryActive()) {
      annotateServerSpan({ [SY.budgetRemainingUsd]: facts.budget.remaining_usd });
      recordBudgetRemaining(
        facts.budget.name ?? "(unnamed)",
        facts.budget.window,
        facts.budget.remaining_usd,
      );
    }
    if (ctx.ledger) {
      reservation = await admit(ctx.ledger, caller, facts, active.policy, decision);
    }

    const stream = body.stream === true;
    const result: ExecuteResult = await execute({
      active,
      decision,
      facts,
      request: body,
      rawBody: raw,
      stream,
      headers: { "x-request-id": ids.requestId },
      client: ctx.upstreams,
      // Switchyard runs with --unstable-no-legacy-abort: request.signal aborts only when the
      // client disconnects (not when a response is sent), so attempts can follow it directly.
      signal: request.signal,
      deadline: Date.now() + ctx.config.requestTimeoutMs,
      health: ctx.health,
      limiter: ctx.limiter,
      queueTimeoutMs: ctx.config.queueTimeoutMs,
      maxRetryAfterMs: ctx.config.maxRetryAfterMs,
      observer: telemetryActive()
        ? attemptTracer({
          request: body,
          captureContent: ctx.config.captureContent,
          gatewayStats: ctx.gatewayStats,
        })
        : undefined,
    });
    outcome.attempts = result.attempts;
    const tried = result.attempts.filter((a) => !a.skipped);
    attemptHeaders(headers, active, tried, routing);
    const overheadMs = Math.max(0, performance.now() - started - result.waitMs);
    if (telemetryActive()) {
      annotateServerSpan({
        [SY.requestId]: ids.requestId,
        [SY.attempts]: tried.length,
        [SY.overheadMs]: Math.round(overheadMs * 100) / 100,
        [ATTR.gatewayRequestModel]: body.model,
        [ATTR.gatewayProvidersAttempted]: tried.map((a) =>
          active.routes[a.route]?.adapter.genAiProviderName ?? a.route
        ),
      });
    }
    if (!result.ok) throw failureError(result.error, result.attempts);
    const served = result.runtime;
    outcome.servedBy = served.route.name;
    recordOverhead(overheadMs, served.route.name, served.route.via);
    if (served.route.name !== decision.route) recordFallback(decision.route, served.route.name);
    if (routing) headers["x-switchyard-overhead-ms"] = overheadMs.toFixed(2);

    /** Stores the spend of what was served; resolves once it is durable. */
    const settle = async (usage: NormalizedUsage | undefined, sentChars: number) => {
      // Nothing records spend: neither a ledger nor a decision log wants it.
      if (!ctx.ledger && !ctx.decisionLog) return;
      const accounted = usageToAccount(usage, facts, sentChars);
      outcome.usage = accounted.usage;
      outcome.usageEstimated = accounted.estimated;
      const cost = await settleSpend(ctx, reservation, served, caller, facts, accounted.usage);
      reservation = undefined;
      outcome.cost = cost;
    };

    if ("stream" in result.result) {
      const upstream = result.result.stream;
      const streamStarted = performance.now();
      const attemptStartedAgo = upstream.ttftMs;
      headers["content-type"] = "text/event-stream; charset=utf-8";
      headers["cache-control"] = "no-cache";
      const finish = result.finish!;
      const events = clientStream(upstream, {
        includeUsage: body.stream_options?.include_usage === true,
        keepText: ctx.config.captureContent && telemetryActive(),
        async onEnd(summary) {
          finish({
            ok: summary.ok,
            error: summary.error,
            latencyMs: attemptStartedAgo + (performance.now() - streamStarted),
            usage: summary.usage,
            finishReasons: summary.finishReasons,
            responseId: summary.responseId,
            responseModel: summary.responseModel,
            servedBy: summary.servedBy,
            outputText: summary.text,
          });
          await settle(summary.usage, summary.contentChars);
          outcome.status = summary.ok ? 200 : 502;
          outcome.streamError = summary.error?.kind;
          recordDecisionLog(ctx, outcome);
        },
      });
      return new Response(events, { status: 200, headers });
    }
    const completion = result.result.completion;
    await settle(completion.usage, 0);
    headers["content-type"] = "application/json";
    outcome.status = 200;
    recordDecisionLog(ctx, outcome);
    return new Response(completion.raw ?? JSON.stringify(completion.response), {
      status: 200,
      headers,
    });
  } catch (error) {
    if (reservation && ctx.ledger) {
      ctx.ledger.release(reservation).catch((e) =>
        ctx.log(`could not release a reservation: ${e}`)
      );
    }
    if (!(error instanceof ApiError)) {
      ctx.log(`internal error: ${error instanceof Error ? error.stack : error}`);
    }
    const response = errorResponse(error, headers);
    failServerSpan(
      response.status,
      error instanceof ApiError ? error.code ?? error.type : "internal",
    );
    outcome.status = response.status;
    recordDecisionLog(ctx, outcome);
    return response;
  }
}

/**
 * Settles the spend in the ledger (durably, before the response completes) or, without a ledger,
 * only computes it for the log. A ledger failure at this point is logged, not thrown: the client
 * was served and must get its answer.
 */
async function settleSpend(
  ctx: ServerContext,
  reservation: Reservation | undefined,
  served: RouteRuntime,
  caller: CallerFacts,
  facts: Facts,
  usage: NormalizedUsage,
): Promise<{ usd: number; source: "computed" | "reported" }> {
  const price = served.route.price;
  if (!ctx.ledger || !reservation) return costOf(usage, price);
  try {
    return await ctx.ledger.record(reservation, usage, price, {
      key: caller.key?.id,
      team: caller.team?.id,
      tags: facts.tags,
      route: served.route.name,
      via: served.route.via,
    });
  } catch (error) {
    ctx.log(`could not record spend for ${served.route.name}: ${error}`);
    return costOf(usage, price);
  }
}

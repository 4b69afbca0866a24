/**
 * Execution of a decision: the chosen route, then its fallbacks, in order. Each candidate is
 * checked first (available, circuit closed, context window, cost cap), retried on transient
 * failures with jittered backoff, and abandoned for the next one on the failures that warrant it.
 * Every attempt, skipped or tried, is recorded with its reason, for headers, traces and the 503.
 */
import { estimateCost } from "../facts/cost.ts";
import type { Facts } from "../facts/facts.ts";
import type { Decision } from "../policy/decide.ts";
import type { Route } from "../policy/types.ts";
import { UpstreamError, type UpstreamErrorKind } from "../upstream/errors.ts";
import type { ChatRequest, NormalizedUsage } from "../upstream/types.ts";
import { attempt, type AttemptResult } from "./attempt.ts";
import type { HealthBoard } from "./health.ts";
import type { Limiter } from "./limiter.ts";
import type { ActivePolicy, RouteRuntime } from "./runtime.ts";
import type { UpstreamClient } from "../upstream/transport.ts";

/** One try (or skip) of one route. */
export interface AttemptRecord {
  route: string;
  via: "direct" | "gateway";
  /** 1-based, counting retries. */
  attempt: number;
  outcome: "ok" | UpstreamErrorKind;
  /** Why this attempt happened after a failure of the previous one. */
  fallbackReason?: string;
  skipped?: boolean;
  message?: string;
  status?: number;
  latencyMs: number;
  ttftMs?: number;
  simulated: boolean;
}

export interface ExecuteOptions {
  active: ActivePolicy;
  decision: Decision;
  facts: Facts;
  request: ChatRequest;
  /** The client's body text, when `request` is exactly what it parsed to (see Adapter.request). */
  rawBody?: string;
  stream: boolean;
  headers: Record<string, string>;
  client: UpstreamClient;
  signal: AbortSignal;
  deadline: number;
  health: HealthBoard;
  limiter: Limiter;
  queueTimeoutMs: number;
  maxRetryAfterMs: number;
  /** Called around every attempt, e.g. to trace it. */
  observer?: AttemptObserver;
}

/** What is known about an attempt when it ends. */
export interface AttemptEnd {
  usage?: NormalizedUsage;
  finishReasons?: string[];
  responseId?: string;
  responseModel?: string;
  /** The provider a gateway says served it. */
  servedBy?: string;
  error?: UpstreamError;
  /** The answer's messages (non-streaming) — recorded only when content capture is on. */
  output?: unknown[];
  /** A streamed answer's text, when content capture is on. */
  outputText?: string;
}

/** Hooks that see every attempt (telemetry). */
export interface AttemptObserver {
  start(runtime: RouteRuntime, record: AttemptRecord): AttemptScope;
}
export interface AttemptScope {
  /** Runs the attempt inside the scope (so the fetch span nests under it). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** A stream produced its first content. */
  firstToken(): void;
  end(record: AttemptRecord, details: AttemptEnd): void;
}

/** How a forwarded stream ended, reported by the server once the last byte is out. */
export interface StreamOutcome extends AttemptEnd {
  ok: boolean;
  latencyMs: number;
}

export type ExecuteResult =
  | {
    ok: true;
    runtime: RouteRuntime;
    result: Extract<AttemptResult, { ok: true }>;
    attempts: AttemptRecord[];
    /** Time spent waiting on upstreams (the final attempt until it was handed over). */
    waitMs: number;
    /** For streams: call once the stream has ended, with how it ended. */
    finish?: (outcome: StreamOutcome) => void;
  }
  | { ok: false; error: UpstreamError; attempts: AttemptRecord[]; waitMs: number };

/** Failures worth trying again on the same route. */
const RETRYABLE = new Set<UpstreamErrorKind>([
  "connection",
  "timeout_first_byte",
  "rate_limited",
  "server_error",
  "stream_cut",
]);

/** Failures that say nothing about the route's health. */
const NOT_THE_ROUTES_FAULT = new Set<UpstreamErrorKind>([
  "client_error",
  "context_length",
  "aborted",
]);

/** Whether a failure on this route should move on to the next candidate. */
export function fallsBack(error: UpstreamError, route: Route): boolean {
  if (error.kind === "aborted") return false;
  if (error.kind === "client_error") {
    return error.status !== undefined && route.fallbackOnStatus.has(error.status);
  }
  return true;
}

/** Exponential backoff with full jitter: 100 ms, 200 ms, 400 ms … each times 0.5–1.5. */
function backoffMs(retry: number): number {
  return 100 * 2 ** retry * (0.5 + Math.random());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Why a candidate cannot be tried at all, or undefined when it can. */
function skipReason(
  runtime: RouteRuntime | undefined,
  facts: Facts,
  isFallback: boolean,
): { kind: UpstreamErrorKind; message: string } | undefined {
  if (!runtime) return { kind: "unavailable", message: "The route does not exist" };
  if (!runtime.available) {
    return { kind: "unavailable", message: runtime.unavailableReason ?? "Unavailable" };
  }
  const need = facts.prompt.tokens + (facts.request.max_tokens ?? 0);
  if (isFallback && need > runtime.route.contextTokens) {
    return {
      kind: "context_too_small",
      message:
        `The prompt needs ~${need} tokens; the context window holds ${runtime.route.contextTokens}`,
    };
  }
  const cap = facts.budget.max_cost_usd;
  if (cap !== undefined) {
    const estimate = estimateCost(facts, facts.routes[runtime.route.name]);
    if (estimate > cap) {
      return {
        kind: "unavailable",
        message: `Estimated cost $${estimate.toFixed(6)} exceeds the cap of $${cap}`,
      };
    }
  }
  return undefined;
}

/** Tries the decision's route and fallbacks until one serves. */
export async function execute(options: ExecuteOptions): Promise<ExecuteResult> {
  const { active, decision, facts } = options;
  const candidates = [decision.route, ...decision.fallbacks];
  const attempts: AttemptRecord[] = [];
  let lastError: UpstreamError | undefined;
  let waitMs = 0;
  let fallbackReason: string | undefined;

  for (const [index, name] of candidates.entries()) {
    const runtime = active.routes[name];
    const via = runtime?.route.via ?? "direct";
    if (Date.now() >= options.deadline) {
      // The request's own timeout passed: untried routes are not at fault, so nothing is recorded
      // against them.
      attempts.push({
        route: name,
        via,
        attempt: 0,
        outcome: "timeout_total",
        skipped: true,
        message: "The request timeout passed before this route was tried",
        latencyMs: 0,
        simulated: runtime?.simulated ?? false,
      });
      lastError = new UpstreamError("timeout_total", "The request timeout passed");
      continue;
    }
    const skip = skipReason(runtime, facts, index > 0);
    if (skip) {
      attempts.push({
        route: name,
        via,
        attempt: 0,
        outcome: skip.kind,
        skipped: true,
        message: skip.message,
        latencyMs: 0,
        simulated: runtime?.simulated ?? false,
      });
      lastError = new UpstreamError(skip.kind, `${name}: ${skip.message}`);
      fallbackReason = `${name}: ${skip.kind}`;
      continue;
    }
    const tracker = options.health.route(name);
    if (!tracker.tryAcquire()) {
      attempts.push({
        route: name,
        via,
        attempt: 0,
        outcome: "circuit_open",
        skipped: true,
        message: "The route's circuit breaker is open",
        latencyMs: 0,
        simulated: runtime.simulated,
      });
      lastError = new UpstreamError("circuit_open", `${name}: circuit open`);
      fallbackReason = `${name}: circuit_open`;
      continue;
    }

    for (let retry = 0; retry <= runtime.route.retries; retry++) {
      const release = options.limiter.tryAcquire() ??
        await options.limiter.acquire(options.queueTimeoutMs, options.signal);
      if (!release) {
        tracker.releaseProbe();
        const message = `No upstream slot freed within ${options.queueTimeoutMs} ms ` +
          `(the cap on concurrent upstream requests is reached)`;
        attempts.push({
          route: name,
          via,
          attempt: 0,
          outcome: "unavailable",
          skipped: true,
          message,
          latencyMs: 0,
          simulated: runtime.simulated,
        });
        return { ok: false, error: new UpstreamError("unavailable", message), attempts, waitMs };
      }
      const record: AttemptRecord = {
        route: name,
        via,
        attempt: retry + 1,
        outcome: "ok",
        latencyMs: 0,
        simulated: runtime.simulated,
      };
      if (fallbackReason) record.fallbackReason = fallbackReason;
      const scope = options.observer?.start(runtime, record);
      const started = performance.now();
      const run = () =>
        attempt(runtime, {
          request: options.request,
          rawBody: options.rawBody,
          stream: options.stream,
          headers: options.headers,
          client: options.client,
          signal: options.signal,
          deadline: options.deadline,
        });
      const result = scope ? await scope.run(run) : await run();
      waitMs += result.waitMs;
      record.latencyMs = Math.round(performance.now() - started);

      if (result.ok) {
        if ("stream" in result) {
          record.ttftMs = Math.round(result.stream.ttftMs);
          scope?.firstToken();
          attempts.push(record);
          let finished = false;
          return {
            ok: true,
            runtime,
            result,
            attempts,
            waitMs,
            finish(outcome) {
              if (finished) return;
              finished = true;
              release();
              record.latencyMs = Math.round(outcome.latencyMs);
              if (!outcome.ok && outcome.error) {
                record.outcome = outcome.error.kind;
                record.message = outcome.error.message;
              }
              const aborted = outcome.error?.kind === "aborted";
              if (aborted) tracker.releaseProbe();
              else {
                tracker.record({
                  ok: outcome.ok,
                  countsAgainstRoute: !outcome.ok,
                  latencyMs: outcome.latencyMs,
                  ttftMs: result.stream.ttftMs,
                  at: Date.now(),
                });
              }
              scope?.end(record, outcome);
            },
          };
        }
        release();
        record.status = result.status;
        tracker.record({
          ok: true,
          countsAgainstRoute: false,
          latencyMs: record.latencyMs,
          at: Date.now(),
        });
        attempts.push(record);
        const completion = result.completion;
        scope?.end(record, {
          usage: completion.usage,
          finishReasons: completion.response.choices.map((c) => c.finish_reason ?? "stop"),
          responseId: completion.response.id,
          responseModel: completion.response.model,
          servedBy: completion.servedBy,
          output: completion.response.choices.map((c) => c.message),
        });
        return { ok: true, runtime, result, attempts, waitMs };
      }

      release();
      const error = result.error;
      record.outcome = error.kind;
      record.message = error.message;
      if (error.status !== undefined) record.status = error.status;
      attempts.push(record);
      scope?.end(record, { error });
      lastError = error;
      if (error.kind === "aborted") {
        tracker.releaseProbe();
        return { ok: false, error, attempts, waitMs };
      }
      // A total timeout cut short by the request's own deadline is not the route's fault.
      const deadlineHit = error.kind === "timeout_total" && Date.now() >= options.deadline - 1;
      tracker.record({
        ok: false,
        countsAgainstRoute: !NOT_THE_ROUTES_FAULT.has(error.kind) && !deadlineHit,
        latencyMs: record.latencyMs,
        at: Date.now(),
      });
      if (retry >= runtime.route.retries || !RETRYABLE.has(error.kind)) break;
      const retryAfter = error.retryAfterMs;
      if (retryAfter !== undefined && retryAfter > options.maxRetryAfterMs) break;
      if (!tracker.tryAcquire()) break;
      const pause = Math.max(retryAfter ?? 0, backoffMs(retry));
      if (Date.now() + pause >= options.deadline) break;
      await sleep(pause, options.signal);
      if (options.signal.aborted) {
        return {
          ok: false,
          error: new UpstreamError("aborted", "The client went away"),
          attempts,
          waitMs,
        };
      }
    }
    if (lastError && !fallsBack(lastError, runtime.route)) {
      return { ok: false, error: lastError, attempts, waitMs };
    }
    fallbackReason = `${name}: ${lastError?.kind ?? "failed"}`;
  }
  return {
    ok: false,
    error: lastError ?? new UpstreamError("unavailable", "No route to try"),
    attempts,
    waitMs,
  };
}

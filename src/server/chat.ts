/**
 * `POST /v1/chat/completions`: authenticate, read and parse the body, build the facts, decide,
 * execute the decision (route, then fallbacks), and answer as OpenAI does — JSON, or SSE chunks
 * forwarded as they arrive. Every response, errors included, carries the request id, the trace id
 * and the routing headers.
 */
import { z } from "zod";
import { buildFacts, type CallerFacts, type Facts } from "../facts/facts.ts";
import { decide, type Decision } from "../policy/decide.ts";
import { type AttemptRecord, execute, type ExecuteResult } from "../routing/execute.ts";
import type { ActivePolicy } from "../routing/runtime.ts";
import type { UpstreamError } from "../upstream/errors.ts";
import { type ChatRequest, ChatRequestSchema } from "../upstream/types.ts";
import { callerOf } from "./auth.ts";
import { readBody } from "./body.ts";
import type { ServerContext } from "./context.ts";
import { ApiError, errorResponse, invalidRequest } from "./errors.ts";
import { clientStream } from "./stream.ts";
import {
  annotateServerSpan,
  attemptTracer,
  failServerSpan,
  traceDecision,
} from "../telemetry/spans.ts";
import { recordDecision, recordFallback, recordOverhead } from "../telemetry/metrics.ts";
import { ATTR, SY } from "../telemetry/names.ts";

/** Per-request identifiers the app assigned before the handler ran. */
export interface RequestIds {
  requestId: string;
  traceId: string;
}

/** Parses a JSON body, naming the problem when it is not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") throw invalidRequest("The request body is empty", null, "invalid_json");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidRequest(
      `The request body is not valid JSON: ${error instanceof Error ? error.message : error}`,
      null,
      "invalid_json",
    );
  }
}

/** Validates a chat request, naming the first invalid field. */
export function parseChatRequest(body: unknown): ChatRequest {
  const parsed = ChatRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = mostSpecific(parsed.error.issues);
  const param = issue.path.map(String).join(".") || null;
  const message = issue.code === "invalid_type" && issue.message.endsWith("undefined")
    ? `Missing required parameter: '${param}'`
    : `Invalid '${param ?? "body"}': ${issue.message}`;
  throw invalidRequest(
    message,
    param,
    issue.code === "invalid_type" ? "invalid_type" : "invalid_value",
  );
}

/** The deepest issue (a union's failure otherwise names only its root). */
function mostSpecific(issues: z.core.$ZodIssue[]): z.core.$ZodIssue {
  let best = issues[0];
  const visit = (issue: z.core.$ZodIssue, prefix: PropertyKey[]) => {
    const path = [...prefix, ...issue.path];
    if (path.length > best.path.length) best = { ...issue, path };
    if (issue.code === "invalid_union") {
      for (const branch of issue.errors) for (const sub of branch) visit(sub, path);
    }
  };
  for (const issue of issues) visit(issue, []);
  return best;
}

/**
 * What keeps a split sticky: the OpenAI `user`, else the session header, else the request id —
 * so a conversation stays on one arm and keeps its provider-side prompt cache.
 */
export function stickyKeyOf(body: ChatRequest, request: Request, ids: RequestIds): string {
  return body.user ?? request.headers.get("x-switchyard-session") ?? ids.requestId;
}

/** Sets the routing headers every chat response carries. */
function routingHeaders(headers: Headers, active: ActivePolicy, decision: Decision) {
  const p = active.policy;
  headers.set("x-switchyard-policy", `${p.name}@${p.version}#${p.hash}`);
  headers.set("x-switchyard-rule", decision.rule ?? "(default)");
  headers.set("x-switchyard-route", decision.route);
  headers.set("x-switchyard-via", decision.via);
}

function attemptHeaders(headers: Headers, active: ActivePolicy, attempts: AttemptRecord[]) {
  const tried = attempts.filter((a) => !a.skipped);
  headers.set("x-switchyard-attempts", String(tried.length));
  const served = tried.at(-1);
  if (served) {
    headers.set("x-switchyard-route", served.route);
    headers.set("x-switchyard-via", served.via);
    if (active.routes[served.route]?.simulated) headers.set("x-switchyard-simulated", "true");
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
  headers: Headers,
): Promise<Response> {
  const started = performance.now();
  // Deno aborts request.signal once a response is sent (even a streaming one), so the signal is
  // only followed until the response starts; after that, a disconnect cancels the body stream.
  const clientGone = new AbortController();
  const onClientAbort = () => clientGone.abort();
  request.signal.addEventListener("abort", onClientAbort, { once: true });
  try {
    const caller: CallerFacts | undefined = await callerOf(request, ctx.auth);
    const body = parseChatRequest(parseJson(await readBody(request, ctx.config.maxBodyBytes)));
    const active = ctx.policies.current;
    if (!active.policy.acceptsModel(body.model)) {
      throw new ApiError(
        404,
        `The model \`${body.model}\` does not exist or is not served here; use \`auto\` or see GET /v1/models`,
        {
          param: "model",
          code: "model_not_found",
        },
      );
    }
    ctx.refreshHealth(active);
    const facts: Facts = buildFacts(body, {
      headers: request.headers,
      caller,
      routes: active.routeFacts,
    });
    const stickyKey = stickyKeyOf(body, request, ids);
    const decision = await traceDecision(() => decide(active.policy, facts, { stickyKey }));
    recordDecision(decision.micros, active.policy.name, decision.rule ?? "(default)");
    routingHeaders(headers, active, decision);

    const stream = body.stream === true;
    const result: ExecuteResult = await execute({
      active,
      decision,
      facts,
      request: body,
      stream,
      headers: { "x-request-id": ids.requestId },
      signal: clientGone.signal,
      deadline: Date.now() + ctx.config.requestTimeoutMs,
      health: ctx.health,
      limiter: ctx.limiter,
      queueTimeoutMs: ctx.config.queueTimeoutMs,
      maxRetryAfterMs: ctx.config.maxRetryAfterMs,
      observer: attemptTracer({
        request: body,
        captureContent: ctx.config.captureContent,
        gatewayStats: ctx.gatewayStats,
      }),
    });
    attemptHeaders(headers, active, result.attempts);
    const overheadMs = Math.max(0, performance.now() - started - result.waitMs);
    const tried = result.attempts.filter((a) => !a.skipped);
    annotateServerSpan({
      [SY.requestId]: ids.requestId,
      [SY.attempts]: tried.length,
      [SY.overheadMs]: Math.round(overheadMs * 100) / 100,
      [ATTR.gatewayRequestModel]: body.model,
      [ATTR.gatewayProvidersAttempted]: tried.map((a) =>
        active.routes[a.route]?.adapter.genAiProviderName ?? a.route
      ),
    });
    if (!result.ok) throw failureError(result.error, result.attempts);
    const served = tried.at(-1)!;
    recordOverhead(overheadMs, served.route, served.via);
    if (served.route !== decision.route) recordFallback(decision.route, served.route);
    headers.set("x-switchyard-overhead-ms", overheadMs.toFixed(2));

    if ("stream" in result.result) {
      const upstream = result.result.stream;
      const streamStarted = performance.now();
      const attemptStartedAgo = upstream.ttftMs;
      headers.set("content-type", "text/event-stream; charset=utf-8");
      headers.set("cache-control", "no-cache");
      const finish = result.finish!;
      const body_ = clientStream(upstream, {
        includeUsage: body.stream_options?.include_usage === true,
        onEnd(summary) {
          finish({
            ok: summary.ok,
            error: summary.error,
            latencyMs: attemptStartedAgo + (performance.now() - streamStarted),
            usage: summary.usage,
            finishReasons: summary.finishReasons,
            responseId: summary.responseId,
            responseModel: summary.responseModel,
            servedBy: summary.servedBy,
          });
        },
      });
      return new Response(body_, { status: 200, headers });
    }
    const completion = result.result.completion;
    headers.set("content-type", "application/json");
    const text = completion.raw ?? JSON.stringify(completion.response);
    return new Response(text, { status: 200, headers });
  } catch (error) {
    if (!(error instanceof ApiError)) {
      ctx.log(`internal error: ${error instanceof Error ? error.stack : error}`);
    }
    const response = errorResponse(error, headers);
    failServerSpan(
      response.status,
      error instanceof ApiError ? error.code ?? error.type : "internal",
    );
    return response;
  } finally {
    request.signal.removeEventListener("abort", onClientAbort);
  }
}

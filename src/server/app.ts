/**
 * The HTTP application: `createApp(options)` builds everything a server needs (no hidden
 * globals), and `app.fetch` is a Web-standard handler that `Deno.serve` — or a test — calls.
 */
import type { Config } from "../config.ts";
import type { EnvLookup } from "../policy/load.ts";
import { processEnv } from "../policy/load.ts";
import { decide } from "../policy/decide.ts";
import { buildFacts } from "../facts/facts.ts";
import { HealthBoard } from "../routing/health.ts";
import { Limiter } from "../routing/limiter.ts";
import type { ProviderName } from "../upstream/adapter.ts";
import { createUpstreamClient } from "../upstream/transport.ts";
import { adminKeyHash, type Authenticator, callerOf, requireAdmin } from "./auth.ts";
import { readBody } from "./body.ts";
import { chatCompletions } from "./chat.ts";
import { readChatRequest, type RequestIds, stickyKeyOf } from "./request.ts";
import { healthRefresher, type ServerContext } from "./context.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { randomTraceId, requestIdOf, traceIdFromParent } from "./ids.ts";
import { PolicyHolder } from "./policies.ts";
import { openServices } from "./services.ts";
import { warmUp } from "./warmup.ts";
import { addBudgetFacts } from "./accounting.ts";
import { ShadowStats } from "./decision_log.ts";
import { activeTraceId, nameServerSpan } from "../telemetry/spans.ts";
import { telemetryActive } from "../telemetry/active.ts";
import { GatewayStatsFetcher, type StatsTimings } from "../telemetry/gateway_stats.ts";
import { observeUpstreamConnections } from "../telemetry/metrics.ts";

export interface AppOptions {
  config: Config;
  /** Base URLs of running simulators, for routes whose keys are not set. */
  simulators?: Record<ProviderName, string>;
  env?: EnvLookup;
  auth?: Authenticator;
  log?: (line: string) => void;
  /** When to ask gateways for generation stats (tests shorten it). */
  gatewayStatsTimings?: StatsTimings;
}

export interface App extends AsyncDisposable {
  readonly context: ServerContext;
  fetch(request: Request): Promise<Response>;
  /** Starts draining: /readyz turns 503; in-flight requests continue. */
  drain(): void;
  close(): Promise<void>;
}

/** Builds the app; throws PolicyError when the policy is invalid. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const env = options.env ?? processEnv;
  const log = options.log ?? ((line: string) => console.error(line));
  const policies = await PolicyHolder.load({
    file: config.policy,
    env,
    simulate: config.simulate,
    simulators: options.simulators,
    app: { referer: config.appReferer, title: config.appTitle },
    debounceMs: config.reloadDebounceMs,
    log,
  });
  const resolve = {
    simulate: config.simulate,
    simulators: options.simulators,
    app: { referer: config.appReferer, title: config.appTitle },
  };
  let services;
  try {
    services = await openServices(config, { env, log, resolve, auth: options.auth });
  } catch (error) {
    policies.close();
    throw error;
  }
  const health = new HealthBoard({
    failureThreshold: config.circuitFailureThreshold,
    openMs: config.circuitOpenMs,
  });
  const ctx: ServerContext = {
    config,
    policies,
    health,
    limiter: new Limiter(config.maxConcurrentUpstream),
    upstreams: createUpstreamClient(config.upstreamClient, env),
    auth: services.auth,
    ledger: services.ledger,
    decisionLog: services.decisionLog,
    shadow: services.shadow,
    shadowStats: new ShadowStats(),
    logSalt: services.logSalt,
    adminKeyHash: config.adminKey ? await adminKeyHash(config.adminKey) : undefined,
    log,
    gatewayStats: new GatewayStatsFetcher(
      options.gatewayStatsTimings ?? { firstDelayMs: config.gatewayStatsDelayMs, tries: 4 },
    ),
    draining: false,
    refreshHealth: healthRefresher(health),
  };
  const upstreams = ctx.upstreams;
  if (upstreams.connections) observeUpstreamConnections(() => upstreams.connections!());
  if (config.watch) policies.watch();
  // Optimize the request path before the first client (and again for each new policy).
  if (config.warmUp) {
    await warmUp(policies.current);
    policies.onSwap((active) => void warmUp(active, 50));
  }

  const close = async () => {
    policies.close();
    ctx.gatewayStats.close();
    ctx.upstreams.close();
    await services.close();
  };
  return {
    context: ctx,
    fetch: (request) => handle(request, ctx),
    drain() {
      ctx.draining = true;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Response headers, built as a plain object: one copy into the Response at the end. */
export type ResponseHeaders = Record<string, string>;

const json = (body: unknown, headers: ResponseHeaders, status = 200) => {
  headers["content-type"] = "application/json";
  return new Response(JSON.stringify(body), { status, headers });
};

/** One HTTP endpoint. */
export interface Endpoint {
  method: "GET" | "POST";
  path: string;
  /**
   * True when the endpoint can call an upstream (and so spend money): such an endpoint must go
   * through budget admission; tests walk this table to prove that each one does.
   */
  reachesUpstream: boolean;
  handle(
    request: Request,
    ctx: ServerContext,
    ids: RequestIds,
    headers: ResponseHeaders,
  ): Promise<Response>;
}

/** Every endpoint the server answers. */
export const ENDPOINTS: readonly Endpoint[] = [
  {
    method: "POST",
    path: "/v1/chat/completions",
    reachesUpstream: true,
    handle: chatCompletions,
  },
  {
    method: "GET",
    path: "/v1/models",
    reachesUpstream: false,
    async handle(request, ctx, _ids, headers) {
      await callerOf(request, ctx.auth);
      return json(models(ctx), headers);
    },
  },
  { method: "POST", path: "/v1/route", reachesUpstream: false, handle: dryRun },
  {
    method: "GET",
    path: "/v1/policy",
    reachesUpstream: false,
    async handle(request, ctx, _ids, headers) {
      await requireAdmin(request, ctx.adminKeyHash, ctx.auth);
      return json({
        ...ctx.policies.status(),
        shadow: ctx.shadow ? { ...ctx.shadow.status(), decisions: ctx.shadowStats } : null,
        decision_log: ctx.decisionLog?.status() ?? null,
      }, headers);
    },
  },
  {
    method: "GET",
    path: "/v1/spend",
    reachesUpstream: false,
    async handle(request, ctx, _ids, headers) {
      await requireAdmin(request, ctx.adminKeyHash, ctx.auth);
      if (!ctx.ledger) {
        throw new ApiError(404, "Spend accounting is off (store: none)", { code: "no_ledger" });
      }
      return json(await ctx.ledger.report(), headers);
    },
  },
  {
    method: "GET",
    path: "/healthz",
    reachesUpstream: false,
    handle: (_request, _ctx, _ids, headers) => Promise.resolve(json({ status: "ok" }, headers)),
  },
  {
    method: "GET",
    path: "/readyz",
    reachesUpstream: false,
    handle: (_request, ctx, _ids, headers) =>
      Promise.resolve(
        ctx.draining
          ? json({ status: "draining" }, headers, 503)
          : json({ status: "ready", policy: ctx.policies.current.policy.hash }, headers),
      ),
  },
];

const BY_PATH = new Map<string, Endpoint[]>();
for (const endpoint of ENDPOINTS) {
  BY_PATH.set(endpoint.path, [...(BY_PATH.get(endpoint.path) ?? []), endpoint]);
}

/** The path of a request URL without parsing it whole (hot path), trailing slashes dropped. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", start);
  if (hash >= 0 && hash < end) end = hash;
  while (end > start + 1 && url.charCodeAt(end - 1) === 47) end--;
  return url.slice(start, end);
}

/** Dispatches one request. */
async function handle(request: Request, ctx: ServerContext): Promise<Response> {
  const path = pathOf(request.url);
  const candidates = BY_PATH.get(path);
  // With telemetry off there is no span to name or read: skip the context lookups.
  const traced = telemetryActive();
  if (candidates && traced) nameServerSpan(request.method, path);
  const ids: RequestIds = {
    requestId: requestIdOf(request),
    traceId: (traced ? activeTraceId() : undefined) ??
      traceIdFromParent(request.headers.get("traceparent")) ?? randomTraceId(),
  };
  const headers: ResponseHeaders = {
    "x-request-id": ids.requestId,
    "x-switchyard-trace-id": ids.traceId,
  };
  try {
    const endpoint = candidates?.find((e) => e.method === request.method);
    if (endpoint) return await endpoint.handle(request, ctx, ids, headers);
    if (candidates) {
      throw new ApiError(405, `Method ${request.method} is not allowed on ${path}`, {
        code: "method_not_allowed",
      });
    }
    throw new ApiError(404, `Unknown endpoint ${request.method} ${path}`, {
      code: "unknown_url",
    });
  } catch (error) {
    if (!(error instanceof ApiError)) {
      ctx.log(`internal error: ${error instanceof Error ? error.stack : error}`);
    }
    return errorResponse(error, headers);
  }
}

/** `GET /v1/models`: `auto` and every route, in OpenAI's list shape. */
function models(ctx: ServerContext) {
  const active = ctx.policies.current;
  const created = Math.floor(active.policy.loadedAt.getTime() / 1000);
  return {
    object: "list",
    data: [
      { id: "auto", object: "model", created, owned_by: `switchyard:${active.policy.name}` },
      ...Object.values(active.routes).map((r) => ({
        id: r.route.name,
        object: "model",
        created,
        owned_by: r.route.provider,
        switchyard: {
          via: r.route.via,
          model: r.route.model,
          context_tokens: r.route.contextTokens,
          ...(r.route.maxOutputTokens ? { max_output_tokens: r.route.maxOutputTokens } : {}),
          simulated: r.simulated,
          available: r.available,
        },
      })),
    ],
    accept_patterns: active.policy.acceptModels,
  };
}

/** `POST /v1/route`: the decision and its explanation for a body, with no upstream call. */
async function dryRun(
  request: Request,
  ctx: ServerContext,
  ids: RequestIds,
  headers: ResponseHeaders,
): Promise<Response> {
  const caller = await callerOf(request, ctx.auth);
  const { request: body } = readChatRequest(await readBody(request, ctx.config.maxBodyBytes));
  const active = ctx.policies.current;
  ctx.refreshHealth(active);
  const facts = buildFacts(body, { headers: request.headers, caller, routes: active.routeFacts });
  // The same budget facts the real request would see, so the dry run decides alike.
  if (ctx.ledger) await addBudgetFacts(ctx.ledger, caller ?? { tags: [] }, facts);
  const decision = await decide(active.policy, facts, {
    stickyKey: stickyKeyOf(body, request, ids),
  });
  const candidates = [decision.route, ...decision.fallbacks].map((name) => {
    const runtime = active.routes[name];
    return {
      route: name,
      via: runtime.route.via,
      provider: runtime.route.provider,
      model: runtime.route.model,
      available: runtime.available,
      simulated: runtime.simulated,
      circuit: ctx.health.route(name).circuit,
      ...(runtime.unavailableReason ? { reason: runtime.unavailableReason } : {}),
    };
  });
  const { routes: _routes, ...factsWithoutRoutes } = facts;
  return json({ decision, candidates, facts: factsWithoutRoutes }, headers);
}

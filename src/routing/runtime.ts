/**
 * A policy made ready to serve: each route resolved, once, to its adapter, endpoint and key —
 * live when its key is set, simulated when it is not (unless simulation is forbidden, in which
 * case it is unavailable and requests fall back). Built at load and on every reload, never per
 * request.
 */
import type { SimulateMode } from "../config.ts";
import type { RouteFacts } from "../facts/facts.ts";
import type { EnvLookup } from "../policy/load.ts";
import type { Policy, Route } from "../policy/types.ts";
import type { Adapter, ProviderName, UpstreamTarget } from "../upstream/adapter.ts";
import { ADAPTERS } from "../upstream/registry.ts";

/** A route as execution uses it. */
export interface RouteRuntime {
  route: Route;
  adapter: Adapter;
  target: UpstreamTarget;
  /** Served by a built-in simulator, not the real provider. */
  simulated: boolean;
  /** False when the route cannot be called at all; `unavailableReason` says why. */
  available: boolean;
  unavailableReason?: string;
  /** Host and port of the upstream, for traces (`server.address`). */
  server: { address: string; port: number };
}

/** A policy with its routes resolved. Immutable; a reload builds a new one. */
export interface ActivePolicy {
  policy: Policy;
  routes: Record<string, RouteRuntime>;
  /**
   * The `routes` facts every request of this policy sees. Health inside is refreshed in place
   * from live stats; the rest is static.
   */
  routeFacts: Record<string, RouteFacts>;
  /** `name@version#hash`, the `x-switchyard-policy` header (built once). */
  policyHeader: string;
}

export interface ResolveOptions {
  simulate: SimulateMode;
  env: EnvLookup;
  /** Base URLs of the simulated providers, when simulators run. */
  simulators?: Record<ProviderName, string>;
  app?: { referer?: string; title?: string };
}

function serverOf(url: string): { address: string; port: number } {
  try {
    const u = new URL(url);
    return {
      address: u.hostname,
      port: Number(u.port || (u.protocol === "https:" ? 443 : 80)),
    };
  } catch {
    return { address: "", port: 0 };
  }
}

/** Resolves one route. */
function resolveRoute(route: Route, options: ResolveOptions): RouteRuntime {
  const adapter = ADAPTERS[route.provider];
  const keyEnv = route.apiKeyEnv ?? adapter.defaultApiKeyEnv;
  const key = keyEnv ? options.env(keyEnv) ?? "" : "";
  // An OpenAI-compatible server (vLLM, Ollama) may need no key: its base_url makes it live.
  const live = options.simulate !== "always" &&
    (key !== "" || (route.provider === "openai-compatible" && route.baseUrl !== undefined));
  const base = {
    route: route.name,
    provider: route.provider,
    model: route.model,
    gateway: route.gateway,
    app: route.via === "gateway" ? options.app : undefined,
  };
  if (live) {
    const baseUrl = route.baseUrl ?? adapter.defaultBaseUrl;
    return {
      route,
      adapter,
      target: { ...base, baseUrl, apiKey: key },
      simulated: false,
      available: true,
      server: serverOf(baseUrl),
    };
  }
  const simulatorUrl = options.simulators?.[route.provider];
  if (options.simulate !== "never" && simulatorUrl) {
    return {
      route,
      adapter,
      target: { ...base, baseUrl: simulatorUrl, apiKey: "sim-key" },
      simulated: true,
      available: true,
      server: serverOf(simulatorUrl),
    };
  }
  const reason = options.simulate === "never"
    ? `${keyEnv} is not set and simulation is off`
    : `${keyEnv} is not set and no simulator is running`;
  return {
    route,
    adapter,
    target: { ...base, baseUrl: route.baseUrl ?? adapter.defaultBaseUrl, apiKey: "" },
    simulated: false,
    available: false,
    unavailableReason: reason,
    server: serverOf(route.baseUrl ?? adapter.defaultBaseUrl),
  };
}

/** Resolves every route of a policy. */
export function activate(policy: Policy, options: ResolveOptions): ActivePolicy {
  const routes: Record<string, RouteRuntime> = {};
  const routeFacts: Record<string, RouteFacts> = {};
  for (const route of Object.values(policy.routes)) {
    const runtime = resolveRoute(route, options);
    routes[route.name] = runtime;
    routeFacts[route.name] = {
      ...policy.routeFacts[route.name],
      available: runtime.available,
      health: { ...policy.routeFacts[route.name].health },
    };
  }
  return {
    policy,
    routes,
    routeFacts,
    policyHeader: `${policy.name}@${policy.version}#${policy.hash}`,
  };
}

/** Whether any route of these policies needs the simulators. */
export function needsSimulators(policies: Policy[], options: Omit<ResolveOptions, "simulators">) {
  if (options.simulate === "never") return false;
  return policies.some((p) =>
    Object.values(p.routes).some((r) => !resolveRoute(r, options).available)
  );
}

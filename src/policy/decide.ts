/**
 * The decision: rules in order, first match wins, default otherwise. Pure apart from the clock
 * used to time each rule: the same policy and facts always give the same route. A rule that
 * errors (including a runaway expression stopped by its guardrails, or a non-boolean result)
 * counts as not matched and is listed in the explanation; it never fails the request.
 */
import { estimateCost, fitsContext } from "../facts/cost.ts";
import type { Facts } from "../facts/facts.ts";
import { hash32 } from "./split.ts";
import { MODEL_ROUTE } from "./references.ts";
import type { Policy } from "./types.ts";

/** What happened to one rule while deciding. */
export interface RuleTrace {
  rule: string;
  result: "match" | "no_match" | "error";
  error?: string;
  /** Evaluation time in microseconds. */
  micros: number;
}

/** The outcome of a policy for one request, with its explanation. */
export interface Decision {
  /** Shared by every decision of one policy (frozen). */
  readonly policy: { readonly name: string; readonly version: string; readonly hash: string };
  /** The rule that matched, or null for the default. */
  rule: string | null;
  route: string;
  via: "direct" | "gateway";
  /** Routes to try after `route`, in order: the rule's, then each route's own (shared, frozen). */
  fallbacks: readonly string[];
  reason?: string;
  /** For split rules: the arm chosen and the bucket (0–99) the sticky key fell in. */
  split?: { bucket: number; weights: { route: string; weight: number }[] };
  /** One entry per rule evaluated, in order. */
  trace: RuleTrace[];
  /** Total decision time in microseconds. */
  micros: number;
}

export interface DecideOptions {
  /** Keeps split rules sticky: the same key always lands on the same arm. */
  stickyKey?: string;
}

function describeError(error: unknown): string {
  if (error && typeof error === "object" && "message" in error) {
    const code = "code" in error ? ` (${(error as { code: unknown }).code})` : "";
    return `${(error as { message: unknown }).message}${code}`;
  }
  return String(error);
}

/** The functions every expression can call, bound to one request's facts. */
export function bindings(facts: Facts): Record<string, unknown> {
  const route = (name: unknown) => {
    const r = typeof name === "string" ? facts.routes[name] : undefined;
    if (!r) throw { code: "SY001", message: `Unknown route ${JSON.stringify(name)}` };
    return r;
  };
  return {
    cost: (name: unknown) => estimateCost(facts, route(name)),
    fits: (name: unknown) => fitsContext(facts, route(name)),
    isRoute: (name: unknown) => typeof name === "string" && Object.hasOwn(facts.routes, name),
  };
}

/** Turns an expression's value (or the error it threw) into a trace entry's result. */
function outcome(value: unknown, thrown: unknown): Pick<RuleTrace, "result" | "error"> {
  if (thrown !== undefined) return { result: "error", error: describeError(thrown) };
  if (typeof value === "boolean") return { result: value ? "match" : "no_match" };
  if (value === undefined) return { result: "no_match" }; // a missing fact is not a match
  return {
    result: "error",
    error: `\`when\` yielded ${
      Array.isArray(value) ? "an array" : `a ${typeof value}`
    }, not a boolean`,
  };
}

/** Picks a split arm from the sticky key's bucket. */
function pickArm(weights: { route: string; weight: number }[], bucket: number): string {
  let acc = 0;
  for (const arm of weights) {
    acc += arm.weight;
    if (bucket < acc) return arm.route;
  }
  return weights[weights.length - 1].route;
}

/**
 * Fallback chains and policy identities, computed once per policy: a policy never changes after
 * load, and a chain depends only on the policy, the rule's list and the chosen route.
 */
interface PolicyCache {
  identity: Decision["policy"];
  /** Rule (or default) fallback list → chosen route → chain. */
  chains: Map<readonly string[], Map<string, readonly string[]>>;
}
const caches = new WeakMap<Policy, PolicyCache>();

function cacheOf(policy: Policy): PolicyCache {
  let cache = caches.get(policy);
  if (!cache) {
    const identity = Object.freeze({
      name: policy.name,
      version: policy.version,
      hash: policy.hash,
    });
    cache = { identity, chains: new Map() };
    caches.set(policy, cache);
  }
  return cache;
}

function cachedChain(policy: Policy, primary: string, fallbacks: string[]): readonly string[] {
  const chains = cacheOf(policy).chains;
  let byPrimary = chains.get(fallbacks);
  if (!byPrimary) chains.set(fallbacks, byPrimary = new Map());
  let chain = byPrimary.get(primary);
  if (!chain) {
    chain = Object.freeze(fallbackChain(policy, primary, fallbacks));
    byPrimary.set(primary, chain);
  }
  return chain;
}

/** The fallback chain: the rule's list, then each route's own fallbacks, without repeats. */
export function fallbackChain(policy: Policy, primary: string, fallbacks: string[]): string[] {
  const chain: string[] = [];
  const seen = new Set([primary]);
  const add = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    chain.push(name);
  };
  for (const name of fallbacks) add(name);
  for (let i = -1; i < chain.length; i++) {
    const from = i < 0 ? primary : chain[i];
    for (const name of policy.routes[from]?.fallbacks ?? []) add(name);
  }
  return chain;
}

/** Decides where a request goes. */
export async function decide(
  policy: Policy,
  facts: Facts,
  options: DecideOptions = {},
): Promise<Decision> {
  const started = performance.now();
  const bound = bindings(facts);
  const trace: RuleTrace[] = [];
  for (const rule of policy.rules) {
    // Inlined rather than an async helper: compiled conditions return synchronously, and a
    // promise per rule would cost more than the rule itself.
    const ruleStarted = performance.now();
    let value: unknown;
    let thrown: unknown;
    try {
      value = rule.when.evaluate(facts, bound);
      if (value instanceof Promise) value = await value;
    } catch (error) {
      thrown = error ?? new Error("Expression threw");
    }
    const entry: RuleTrace = {
      rule: rule.name,
      ...outcome(value, thrown),
      micros: Math.round((performance.now() - ruleStarted) * 1000),
    };
    trace.push(entry);
    if (entry.result !== "match") continue;
    let route = rule.route;
    if (route === MODEL_ROUTE) {
      // `$model` pins the route the client asked for, after the rules above it had their say.
      if (!Object.hasOwn(policy.routes, facts.request.model)) {
        entry.result = "no_match";
        entry.error = `request.model \`${facts.request.model}\` names no route`;
        continue;
      }
      route = facts.request.model;
    }
    let split: Decision["split"];
    if (rule.split) {
      // Salted with the rule name, so that two experiments do not pick the same users.
      const bucket = hash32(`${rule.name}:${options.stickyKey ?? ""}`) % 100;
      route = pickArm(rule.split, bucket);
      split = { bucket, weights: rule.split };
    }
    const chosen = route!;
    const decision: Decision = {
      policy: cacheOf(policy).identity,
      rule: rule.name,
      route: chosen,
      via: policy.routes[chosen].via,
      fallbacks: cachedChain(policy, chosen, rule.fallbacks),
      trace,
      micros: Math.round((performance.now() - started) * 1000),
    };
    if (rule.reason) decision.reason = rule.reason;
    if (split) decision.split = split;
    return decision;
  }
  const fallback = policy.default;
  const decision: Decision = {
    policy: cacheOf(policy).identity,
    rule: null,
    route: fallback.route,
    via: policy.routes[fallback.route].via,
    fallbacks: cachedChain(policy, fallback.route, fallback.fallbacks),
    trace,
    micros: Math.round((performance.now() - started) * 1000),
  };
  if (fallback.reason) decision.reason = fallback.reason;
  return decision;
}

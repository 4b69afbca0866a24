/**
 * A compiled policy: everything resolved and compiled at load, so that deciding a request does no
 * parsing, compiling, file or environment work.
 */
import type { RouteFacts } from "../facts/facts.ts";
import type { GatewayOptions, ProviderName } from "../upstream/adapter.ts";
import type { PolicyProblem } from "./problems.ts";

/** A route `model` that means "the model the client asked for". */
export const REQUESTED_MODEL = "$request";

/** A route as the engine and the executor use it. */
export interface Route {
  name: string;
  via: "direct" | "gateway";
  provider: ProviderName;
  model: string;
  /** Resolved (`${VAR}` replaced); undefined means the provider's default endpoint. */
  baseUrl?: string;
  apiKeyEnv?: string;
  price: { input: number; cached_input: number; cache_write: number; output: number };
  contextTokens: number;
  maxOutputTokens?: number;
  timeouts: { firstByteMs: number; idleMs: number; totalMs: number };
  /** 4xx statuses that fall back (context-length 400s always do). */
  fallbackOnStatus: ReadonlySet<number>;
  retries: number;
  /** Route-level fallbacks, tried after the rule's own. */
  fallbacks: string[];
  labels: Record<string, string>;
  gateway?: GatewayOptions;
  /** Line of the route in its file, for explanations. */
  line: number;
}

/** A compiled `when` expression. */
export interface Condition {
  source: string;
  /** Resolves to the expression's value; rejects with jsonata's error. */
  evaluate(facts: unknown, bindings: Record<string, unknown>): Promise<unknown> | unknown;
  /** True when a compiled JavaScript closure evaluates it instead of jsonata. */
  fast: boolean;
}

export interface Rule {
  name: string;
  description?: string;
  reason?: string;
  line: number;
  when: Condition;
  route?: string;
  split?: { route: string; weight: number }[];
  fallbacks: string[];
}

export interface Policy {
  name: string;
  version: string;
  description?: string;
  /** Content hash of the policy (sha256 of its canonical JSON, first 12 hex digits). */
  hash: string;
  file: string;
  routes: Record<string, Route>;
  rules: Rule[];
  default: { route: string; fallbacks: string[]; reason?: string };
  /** Glob patterns of accepted model names (route names are always accepted). */
  acceptModels: string[];
  /** `acceptModels` and the route names, compiled once: tests a client's `model`. */
  acceptsModel: (model: string) => boolean;
  /** Static route facts (health zeroed), built once; the server overlays live health. */
  routeFacts: Record<string, RouteFacts>;
  warnings: PolicyProblem[];
  loadedAt: Date;
}

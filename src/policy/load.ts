/**
 * Loading a policy: YAML (with positions) → schema (zod) → whole-policy checks → expressions
 * compiled and type-checked → a `Policy`. Every problem in a file is collected and reported at
 * once, each at its `file:line:col`. Nothing here runs per request.
 */
import { z } from "zod";
import { emptyHealth, type RouteFacts } from "../facts/facts.ts";
import { factShapeFor } from "../facts/shape.ts";
import { conditionFrom, isJsonataFailure, parseExpression } from "./condition.ts";
import { compileFast } from "./fast.ts";
import { PolicyError, type PolicyProblem, sortProblems } from "./problems.ts";
import { checkReferences } from "./references.ts";
import { PolicySchema, type PolicySpec, RouteSchema, RuleSchema } from "./schema.ts";
import { type Path, PolicySource } from "./source.ts";
import { checkExpression } from "./typecheck.ts";
import type { Policy, Route, Rule } from "./types.ts";

/** Where `${VAR}` values come from; `undefined` means unset. */
export type EnvLookup = (name: string) => string | undefined;

export interface LoadOptions {
  env?: EnvLookup;
  /**
   * When true (serving), an unset `${VAR}` in a `base_url` is an error; otherwise (checking,
   * testing) it is a warning and the route keeps its provider's default endpoint.
   */
  requireEnv?: boolean;
  /** Use jsonata for every expression, even those the fast compiler handles (for testing). */
  jsonataOnly?: boolean;
}

/** Reads the environment when permitted; a denied read counts as unset. */
export function processEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Loads and compiles a policy file; throws `PolicyError` listing every problem. */
export async function loadPolicy(file: string, options: LoadOptions = {}): Promise<Policy> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new PolicyError([{
      file,
      line: 1,
      col: 1,
      message: `Cannot read policy file: ${error instanceof Error ? error.message : error}`,
      severity: "error",
    }]);
  }
  return await parsePolicy(text, file, options);
}

/** Compiles policy text; `file` is only used in messages. Throws `PolicyError`. */
export async function parsePolicy(
  text: string,
  file: string,
  options: LoadOptions = {},
): Promise<Policy> {
  const source = new PolicySource(file, text);
  const problems: PolicyProblem[] = [...source.syntaxProblems];
  const at = (path: Path, message: string, severity: "error" | "warning" = "error") =>
    problems.push({ file, ...source.locate(path), message, severity });

  if (problems.some((p) => p.severity === "error")) throw new PolicyError(sortProblems(problems));
  if (source.value === null || typeof source.value !== "object" || Array.isArray(source.value)) {
    at([], "A policy file must be a YAML mapping with `name`, `version`, `routes` and `default`");
    throw new PolicyError(problems);
  }

  const parsed = PolicySchema.safeParse(source.value);
  let spec: PolicySpec;
  let knownRoutes: string[] | undefined;
  if (parsed.success) spec = parsed.data;
  else {
    for (const issue of parsed.error.issues) problems.push(...schemaProblems(source, issue));
    // Keep going with the parts that are valid, so one run reports every problem in the file.
    ({ spec, knownRoutes } = validParts(source.value as Record<string, unknown>));
  }

  for (const issue of checkReferences(spec, knownRoutes)) {
    const position = issue.key
      ? source.locateKey(issue.path, issue.key)
      : source.locate(issue.path);
    problems.push({ file, ...position, message: issue.message, severity: issue.severity });
  }

  const env = options.env ?? processEnv;
  const routes: Record<string, Route> = {};
  for (const [name, route] of Object.entries(spec.routes)) {
    const baseUrl = resolveBaseUrl(
      route.base_url,
      env,
      (message, fatal) =>
        at(
          ["routes", name, "base_url"],
          message,
          fatal || options.requireEnv ? "error" : "warning",
        ),
    );
    routes[name] = {
      name,
      via: route.via,
      provider: route.provider,
      model: route.model,
      baseUrl,
      apiKeyEnv: route.api_key_env,
      price: {
        input: route.price.input,
        cached_input: route.price.cached_input ?? route.price.input,
        cache_write: route.price.cache_write ?? route.price.input,
        output: route.price.output,
      },
      contextTokens: route.context_tokens,
      maxOutputTokens: route.max_output_tokens,
      timeouts: {
        firstByteMs: route.timeout_ms.first_byte,
        idleMs: route.timeout_ms.idle,
        totalMs: route.timeout_ms.total,
      },
      fallbackOnStatus: new Set(route.fallback_on_status ?? [401, 403, 404, 408, 409]),
      retries: route.retries,
      fallbacks: route.fallbacks,
      labels: route.labels,
      gateway: route.gateway,
      line: source.locateKey(["routes"], name).line,
    };
  }

  const shape = factShapeFor(knownRoutes ?? Object.keys(spec.routes));
  const rules: Rule[] = [];
  spec.rules.forEach((rule, index) => {
    const i = (rule as { index?: number }).index ?? index;
    const path = ["rules", i, "when"];
    const expression = syntaxProblem(source, path, rule.when, problems, spec.evaluation);
    if (!expression) return;
    for (
      const issue of checkExpression(
        expression.ast(),
        shape,
        knownRoutes ?? Object.keys(spec.routes),
      )
    ) {
      problems.push({
        file,
        ...source.locateInScalar(path, issue.offset),
        message: `In \`when\` of rule \`${rule.name}\`: ${issue.message}`,
        severity: "error",
      });
    }
    const fast = options.jsonataOnly
      ? undefined
      : compileFast(expression.ast(), rule.when, expression);
    rules.push({
      name: rule.name,
      description: rule.description,
      reason: rule.reason,
      line: source.locate(["rules", i]).line,
      when: fast ?? conditionFrom(rule.when, expression),
      route: rule.route,
      split: rule.split,
      fallbacks: rule.fallbacks,
    });
  });

  sortProblems(problems);
  if (!parsed.success || problems.some((p) => p.severity === "error")) {
    throw new PolicyError(problems);
  }

  return {
    name: spec.name,
    version: spec.version,
    description: spec.description,
    hash: await contentHash(spec),
    file,
    routes,
    rules,
    default: spec.default,
    acceptModels: spec.accept_models,
    acceptsModel: modelMatcher(spec.accept_models, Object.keys(routes)),
    routeFacts: routeFacts(routes),
    warnings: problems,
    loadedAt: new Date(),
  };
}

/**
 * The valid parts of a policy that failed validation: each route and rule checked on its own, so
 * the reference and expression checks can still run over everything that is well-formed.
 */
function validParts(raw: Record<string, unknown>): { spec: PolicySpec; knownRoutes: string[] } {
  const rawRoutes = raw.routes && typeof raw.routes === "object" ? raw.routes : {};
  const routes: PolicySpec["routes"] = {};
  for (const [name, value] of Object.entries(rawRoutes)) {
    const route = RouteSchema.safeParse(value);
    if (route.success) routes[name] = route.data;
  }
  const rules: PolicySpec["rules"] = [];
  if (Array.isArray(raw.rules)) {
    raw.rules.forEach((value, index) => {
      const rule = RuleSchema.safeParse(value);
      if (rule.success) rules.push(Object.assign(rule.data, { index }));
    });
  }
  const fallback = PolicySchema.shape.default.safeParse(raw.default);
  const evaluation = PolicySchema.shape.evaluation.safeParse(raw.evaluation);
  const spec = {
    name: String(raw.name ?? ""),
    version: String(raw.version ?? ""),
    routes,
    rules,
    default: fallback.success ? fallback.data : undefined,
    evaluation: evaluation.success ? evaluation.data : PolicySchema.shape.evaluation.parse({}),
  } as PolicySpec;
  return { spec, knownRoutes: Object.keys(rawRoutes) };
}

/** Compiles an expression, recording a syntax error at its exact position. */
function syntaxProblem(
  source: PolicySource,
  path: Path,
  when: string,
  problems: PolicyProblem[],
  limits = { timeout_ms: 10, max_depth: 200, max_sequence: 10_000 },
) {
  try {
    return parseExpression(when, limits);
  } catch (error) {
    if (!isJsonataFailure(error)) throw error;
    // jsonata positions point just past the offending token.
    const token = typeof error.token === "string" && error.token !== "(end)" ? error.token : "";
    const offset = Math.max(0, (error.position ?? 0) - Math.max(token.length, 1));
    problems.push({
      file: source.file,
      ...source.locateInScalar(path, offset),
      message: `JSONata syntax error in \`when\`: ${error.message} (${error.code})`,
      severity: "error",
    });
    return undefined;
  }
}

/** Turns one zod issue into problems at the right YAML nodes. */
function schemaProblems(source: PolicySource, issue: z.core.$ZodIssue): PolicyProblem[] {
  const path = issue.path as (string | number)[];
  const where = path.length ? `\`${path.join(".")}\`` : "the policy";
  const problem = (position: { line: number; col: number }, message: string): PolicyProblem => ({
    file: source.file,
    ...position,
    message,
    severity: "error",
  });
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) =>
      problem(
        source.locateKey(path, key),
        `Unknown field \`${key}\` in ${where}${knownFieldsHint(path)}`,
      )
    );
  }
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  if (missing) {
    return [problem(source.locate(path), `Missing required field ${where}`)];
  }
  return [problem(source.locate(path), `Invalid ${where}: ${issue.message}`)];
}

/** Lists the fields allowed at a path, to make "unknown field" errors actionable. */
function knownFieldsHint(path: (string | number)[]): string {
  const fields = path.length === 0
    ? Object.keys(PolicySchema.shape)
    : path[0] === "routes" && path.length === 2
    ? ["via", "provider", "model", "base_url", "api_key_env", "price", "context_tokens", "…"]
    : path[0] === "rules" && path.length === 2
    ? ["name", "description", "when", "route", "split", "fallbacks", "reason"]
    : [];
  return fields.length ? ` (expected one of: ${fields.join(", ")})` : "";
}

/** Resolves `${VAR}` references in a base URL, and checks the result is an http(s) URL. */
function resolveBaseUrl(
  value: string | undefined,
  env: EnvLookup,
  report: (message: string, fatal: boolean) => void,
): string | undefined {
  if (value === undefined) return undefined;
  let unset = false;
  const resolved = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env(name);
    if (v === undefined || v === "") {
      report(`Environment variable \`${name}\` in \`base_url\` is not set`, false);
      unset = true;
      return "";
    }
    return v;
  });
  if (unset) return undefined;
  try {
    const url = new URL(resolved);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
  } catch {
    report(`\`base_url\` must be an http(s) URL, got \`${resolved}\``, true);
    return undefined;
  }
  return resolved.replace(/\/+$/, "");
}

function routeFacts(routes: Record<string, Route>): Record<string, RouteFacts> {
  const facts: Record<string, RouteFacts> = {};
  for (const route of Object.values(routes)) {
    facts[route.name] = {
      via: route.via,
      provider: route.provider,
      model: route.model,
      price: {
        input: route.price.input,
        cached_input: route.price.cached_input,
        output: route.price.output,
      },
      context_tokens: route.contextTokens,
      labels: route.labels,
      available: true,
      health: emptyHealth(),
    };
  }
  return facts;
}

/** Compiles accepted-model globs and route names into one test, at load. */
function modelMatcher(patterns: string[], routeNames: string[]): (model: string) => boolean {
  const exact = new Set(["auto", ...routeNames, ...patterns.filter((p) => !p.includes("*"))]);
  const globs = patterns.filter((p) => p.includes("*")).map((p) =>
    p.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")
  );
  const regex = globs.length ? new RegExp(`^(?:${globs.join("|")})$`) : undefined;
  return (model) => exact.has(model) || (regex?.test(model) ?? false);
}

/** A stable JSON rendering (sorted keys), so the hash ignores formatting and key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${
      Object.keys(value).sort().map((k) =>
        `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`
      ).join(",")
    }}`;
  }
  return JSON.stringify(value);
}

/** First 12 hex digits of the SHA-256 of the policy's canonical JSON. */
async function contentHash(spec: PolicySpec): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson(spec));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Generated decision logs for tests: hundreds of varied requests (prompt sizes, tags, budgets,
 * gateway-style models, an open circuit), their facts built by `buildFacts` from real requests,
 * decided by a policy as the server would, with seeded attempts, latencies and usage.
 */
import { buildFacts, type Facts } from "../../src/facts/facts.ts";
import { budgetFacts } from "../../src/policy/scenario.ts";
import { decide } from "../../src/policy/decide.ts";
import type { Policy } from "../../src/policy/types.ts";
import { DECISION_LOG_VERSION, type DecisionRecord } from "../../src/log/record.ts";
import { loggedDecision, redactFacts } from "../../src/log/redact.ts";
// Generated logs are the same on every run: one seeded generator.
import { random } from "../../src/seeded.ts";

/** Median latency each route answers in, for the generated attempts. */
export const ROUTE_LATENCY_MS: Record<string, number> = {
  "gpt-mini": 400,
  "gpt-4o": 900,
  "claude-haiku": 700,
  "claude-sonnet": 1500,
  "gemini-flash": 600,
  "mistral-small": 350,
  "mistral-medium": 800,
  "or-gpt-mini": 550,
  "or-breadth": 750,
};

export interface GeneratedOptions {
  count: number;
  seed?: number;
  /** A prompt string placed in every request, to prove it never reaches the log. */
  secret?: string;
  /** Share of requests whose prompt tokens fall in 1500..2000 (the worked example's band). */
  bandShare?: number;
}

/** The facts of one generated request: built from a real body, then varied. */
function variedFacts(policy: Policy, rnd: () => number, i: number, secret: string): Facts {
  const pick = rnd();
  const tags = pick < 0.1 ? ["eu"] : pick < 0.2 ? ["code"] : pick < 0.25 ? ["eu", "code"] : [];
  const model = rnd() < 0.08 ? "meta-llama/llama-3.3-70b-instruct" : "auto";
  const maxTokens = rnd() < 0.5 ? 200 + Math.floor(rnd() * 800) : undefined;
  const body = {
    model,
    messages: [{ role: "user" as const, content: `${secret} request ${i}` }],
    ...(maxTokens ? { max_tokens: maxTokens } : {}),
    ...(rnd() < 0.3 ? { user: `user-${i % 17}` } : {}),
  };
  const spent = rnd() < 0.07 ? 95 : 20;
  const facts = buildFacts(body, {
    headers: new Headers(tags.length ? { "x-switchyard-tags": tags.join(",") } : {}),
    caller: { key: { id: `key-${i % 5}`, name: "app" }, tags: [] },
    budget: budgetFacts({ limit_usd: 100, spent_usd: spent }),
    routes: structuredClone(policy.routeFacts),
    now: new Date(Date.UTC(2026, 10, 25, i % 24)),
  });
  return facts;
}

/** Prompt sizes spread over every tier of the default policy. */
function promptTokens(rnd: () => number, bandShare: number): number {
  const r = rnd();
  if (r < bandShare) return 1500 + Math.floor(rnd() * 501); // 1500..2000
  if (r < bandShare + 0.35) return 10 + Math.floor(rnd() * 1490);
  if (r < bandShare + 0.6) return 2001 + Math.floor(rnd() * 30000);
  if (r < bandShare + 0.75) return 32001 + Math.floor(rnd() * 60000);
  return 100001 + Math.floor(rnd() * 200000);
}

/** Generates decision records as the server would write them for `policy`. */
export async function generateRecords(
  policy: Policy,
  options: GeneratedOptions,
): Promise<DecisionRecord[]> {
  const rnd = random(options.seed ?? 7);
  const records: DecisionRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const facts = variedFacts(policy, rnd, i, options.secret ?? "Hello");
    facts.prompt.tokens = promptTokens(rnd, options.bandShare ?? 0.15);
    if (rnd() < 0.05) facts.routes["gpt-mini"].health.circuit = "open";
    for (const [name, route] of Object.entries(facts.routes)) {
      route.health.p50_ms = ROUTE_LATENCY_MS[name] ?? 0;
    }
    const requestId = `req-${String(i).padStart(4, "0")}`;
    const decision = await decide(policy, facts, { stickyKey: facts.request.user ?? requestId });
    const failedFirst = rnd() < 0.1;
    const served = failedFirst ? decision.fallbacks[0] ?? decision.route : decision.route;
    const latency = (route: string) =>
      Math.round((ROUTE_LATENCY_MS[route] ?? 500) * (0.8 + rnd() * 0.4));
    const attempts: DecisionRecord["attempts"] = [];
    if (failedFirst) {
      attempts.push({
        route: decision.route,
        via: decision.via,
        outcome: "server_error",
        latency_ms: 50,
        status: 503,
      });
    }
    attempts.push({
      route: served,
      via: policy.routes[served].via,
      outcome: "ok",
      latency_ms: latency(served),
      ttft_ms: 100,
    });
    const withUsage = rnd() < 0.6;
    const record: DecisionRecord = {
      v: DECISION_LOG_VERSION,
      ts: new Date(Date.UTC(2026, 10, 25, 0, 0, i)).toISOString(),
      request_id: requestId,
      trace_id: crypto.randomUUID().replaceAll("-", ""),
      policy: { name: policy.name, version: policy.version, hash: policy.hash },
      facts: redactFacts(facts, "test-salt"),
      decision: loggedDecision(decision),
      attempts,
      served_by: served,
      status: 200,
      duration_ms: attempts.reduce((sum, a) => sum + a.latency_ms, 0),
    };
    if (withUsage) {
      record.usage = {
        input_tokens: facts.prompt.tokens,
        output_tokens: 100 + (i % 300),
        cached_input_tokens: i % 4 === 0 ? Math.floor(facts.prompt.tokens / 2) : 0,
      };
    }
    records.push(record);
  }
  return records;
}

/** The records as decision-log text. */
export function logText(records: DecisionRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join("");
}

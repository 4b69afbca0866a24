/**
 * Shared pieces of the end-to-end ledger tests: a policy whose routes are pinned by model name,
 * a client that sends one chat request (JSON, or a stream with `include_usage`) and returns the
 * usage it saw, the cost of that usage by the same integer rule the ledger uses (`costOf`), the
 * spend report as rows, a bounded-concurrency runner, and Redis namespace cleanup.
 */
import { createClient } from "redis";
import { costOf, type TokenPrice } from "../../src/budget/cost.ts";
import { normalizeOpenAIUsage, type OpenAIUsage } from "../../src/upstream/types.ts";

/** Every wire format the usage comes back in, each route pinned by `model: <route>`, no fallbacks. */
export const LEDGER_POLICY = `
name: ledger-e2e
version: 1
accept_models: [auto, "*/*"]
routes:
  openai:
    via: direct
    provider: openai
    model: gpt-4o-mini
    price: { input: 2.5, cached_input: 1.25, output: 10 }
    context_tokens: 128000
  anthropic:
    via: direct
    provider: anthropic
    model: claude-sonnet-4-5
    price: { input: 3, cached_input: 0.3, output: 15 }
    context_tokens: 200000
  gemini:
    via: direct
    provider: gemini
    model: gemini-2.5-flash
    price: { input: 0.3, output: 2.5 }
    context_tokens: 1000000
  mistral:
    via: direct
    provider: mistral
    model: mistral-small-latest
    price: { input: 0.1, output: 0.3 }
    context_tokens: 128000
  gateway:
    via: gateway
    provider: openrouter
    model: openai/gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
rules:
  - { name: pinned, when: '$isRoute(request.model)', route: $model }
default: { route: openai }
`;

/** One request to send. */
export interface Call {
  /** The route to pin (`model`). */
  route: string;
  stream: boolean;
  tags: string[];
  maxTokens: number;
  /** The last user message. */
  content: string;
  /** An optional system message before it (a long one makes the OpenAI simulator cache it). */
  system?: string;
}

/** What the client saw of one call. */
export interface Seen {
  status: number;
  /** The route that served (`x-switchyard-route`). */
  route: string | null;
  /** The usage the response carried: the JSON body's, or a stream's usage chunk. */
  usage?: OpenAIUsage;
  /** JSON body fully read, or the stream read up to `data: [DONE]`. */
  complete: boolean;
  /** A non-2xx answer's error object. */
  error?: Record<string, unknown>;
}

/** The chat body of a call. */
export function bodyOf(call: Call): Record<string, unknown> {
  const messages = [
    ...(call.system ? [{ role: "system", content: call.system }] : []),
    { role: "user", content: call.content },
  ];
  return {
    model: call.route,
    messages,
    max_tokens: call.maxTokens,
    ...(call.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

function headersOf(call: Call): Record<string, string> {
  return { "content-type": "application/json", "x-switchyard-tags": call.tags.join(",") };
}

/**
 * Sends one call and reads the whole answer. A body cut by the server's death rejects (the test
 * counts such a call as in flight); a stream that ends without `[DONE]` is not complete.
 */
export async function send(origin: string, call: Call): Promise<Seen> {
  const response = await fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers: headersOf(call),
    body: JSON.stringify(bodyOf(call)),
  });
  const route = response.headers.get("x-switchyard-route");
  if (response.status !== 200) {
    const { error } = await response.json();
    return { status: response.status, route, complete: true, error };
  }
  if (!call.stream) {
    const { usage } = await response.json();
    return { status: 200, route, usage, complete: true };
  }
  const events = (await response.text()).split("\n\n").filter((e) => e.startsWith("data: "));
  const data = events.map((e) => e.slice("data: ".length));
  let usage: OpenAIUsage | undefined;
  for (const payload of data) {
    if (payload === "[DONE]") continue;
    const chunk = JSON.parse(payload);
    if (chunk.usage) usage = chunk.usage;
  }
  return { status: 200, route, usage, complete: data.at(-1) === "[DONE]" };
}

/** Nano-USD of the usage a client saw, at a route's price, exactly as the ledger rounds it. */
export function nanoOf(usage: OpenAIUsage, price: TokenPrice): number {
  return costOf(normalizeOpenAIUsage(usage), price).nanoUsd;
}

/** The dry-run estimate inputs the server computes for a call: its prompt tokens. */
export async function promptTokens(origin: string, call: Call): Promise<number> {
  const response = await fetch(`${origin}/v1/route`, {
    method: "POST",
    headers: headersOf(call),
    body: JSON.stringify(bodyOf(call)),
  });
  if (response.status !== 200) throw new Error(`dry run answered ${response.status}`);
  return (await response.json()).facts.prompt.tokens;
}

/** One row of a spend report. */
export interface Row {
  settledNano: number;
  heldNano: number;
  requests: number;
}

/** A window of `GET /v1/spend` as `dimension:id` → row, plus its period. */
export interface WindowSpend {
  period: string;
  rows: Map<string, Row>;
  totalNano: number;
}

/** Reads `GET /v1/spend` (day and month). */
export async function readSpend(origin: string): Promise<{ day: WindowSpend; month: WindowSpend }> {
  const response = await fetch(`${origin}/v1/spend`);
  if (response.status !== 200) throw new Error(`/v1/spend answered ${response.status}`);
  const snapshot = await response.json();
  const windowOf = (report: {
    period: string;
    totalNano: number;
    rows: ({ dimension: string; id: string } & Row)[];
  }): WindowSpend => ({
    period: report.period,
    totalNano: report.totalNano,
    rows: new Map(report.rows.map((r) => [`${r.dimension}:${r.id}`, {
      settledNano: r.settledNano,
      heldNano: r.heldNano,
      requests: r.requests,
    }])),
  });
  return { day: windowOf(snapshot.day), month: windowOf(snapshot.month) };
}

/** Runs `task(0..count-1)` with at most `concurrency` in flight; results in index order. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Adds `amount` to `key` of a running-sum map. */
export function addTo(sums: Map<string, number>, key: string, amount: number): void {
  sums.set(key, (sums.get(key) ?? 0) + amount);
}

/** The UTC day an instant falls in, e.g. `2026-01-05`. */
function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Runs a test body that compares spend within the current UTC day; if it fails and the day
 * changed while it ran (spend split across two windows), runs it once more with fresh state.
 */
export async function inOneUtcDay(run: () => Promise<void>): Promise<void> {
  const day = utcDay(new Date());
  try {
    await run();
  } catch (error) {
    if (utcDay(new Date()) === day) throw error;
    await run();
  }
}

/** A fresh Redis namespace for one test run. */
export function testNamespace(): string {
  return `ledger-e2e-${crypto.randomUUID()}`;
}

/** Deletes every key of a namespace (`{namespace}:*`). */
export async function dropNamespace(url: string, namespace: string): Promise<void> {
  const client = await createClient({ url }).connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `{${namespace}}:*`, COUNT: 500 })) {
      if (keys.length) await client.del(keys);
    }
  } finally {
    await client.close();
  }
}

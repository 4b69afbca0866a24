/**
 * Facts: the plain-JSON input every policy expression sees. Built once per request from the
 * parsed body, the headers and the caller, plus the policy's static route facts and the live route
 * health. Pure: the same inputs give the same facts, so decisions can be replayed.
 */
import type { ChatRequest } from "../upstream/types.ts";
import { contentText } from "../upstream/types.ts";
import { estimateTokens } from "./tokens.ts";

/** Live numbers for one route; zero-valued until the server has seen traffic. */
export interface RouteHealth {
  /** Share of recent attempts that failed, 0..1. */
  error_rate: number;
  /** Recent attempts counted in the numbers below. */
  requests: number;
  p50_ms: number;
  p95_ms: number;
  ttft_p50_ms: number;
  circuit: "closed" | "open" | "half_open";
}

/** What expressions see under `routes.<name>`. */
export interface RouteFacts {
  via: "direct" | "gateway";
  provider: string;
  model: string;
  price: { input: number; cached_input: number; output: number };
  context_tokens: number;
  labels: Record<string, string>;
  /** False when the route cannot be called (no key and simulation forbidden). */
  available: boolean;
  health: RouteHealth;
}

/** Spend against one budget. Limit and remaining are absent when no budget applies. */
export interface BudgetFacts {
  limit_usd?: number;
  spent_usd: number;
  remaining_usd?: number;
  /** spent ÷ limit, 0 when no budget applies. */
  spent_ratio: number;
  window: "day" | "month" | "none";
  /** Budget name, when one applies. */
  name?: string;
  /** The caller's per-request cap (`x-switchyard-max-cost-usd`). */
  max_cost_usd?: number;
}

/** The identity of the caller, when keys are configured. */
export interface CallerFacts {
  key?: { id: string; name: string };
  team?: { id: string; name: string };
  tags: string[];
}

/** The whole JSONata input. */
export interface Facts {
  request: {
    model: string;
    stream: boolean;
    max_tokens?: number;
    temperature?: number;
    has_tools: boolean;
    tool_count: number;
    response_format: "text" | "json_object" | "json_schema";
    message_count: number;
    user?: string;
  };
  prompt: {
    chars: number;
    tokens: number;
    system_chars: number;
    system_tokens: number;
    last_user_chars: number;
    last_user_tokens: number;
    has_images: boolean;
    image_count: number;
  };
  tags: string[];
  budget: BudgetFacts;
  budgets: { key?: BudgetFacts; team?: BudgetFacts; tags: Record<string, BudgetFacts> };
  key?: { id: string; name: string };
  team?: { id: string; name: string };
  routes: Record<string, RouteFacts>;
  time: { hour: number; weekday: Weekday; date: string };
}

export type Weekday = "sun" | "mon" | "tue" | "wed" | "thu" | "fri" | "sat";
const WEEKDAYS: Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** Everything facts are built from besides the request body. */
export interface FactsContext {
  headers?: Headers;
  caller?: CallerFacts;
  budget?: BudgetFacts;
  budgets?: Facts["budgets"];
  routes: Record<string, RouteFacts>;
  now?: Date;
}

/** The largest number of tags taken from a request, so a header cannot bloat the facts. */
export const MAX_REQUEST_TAGS = 32;

/** Splits `x-switchyard-tags: a, b` style lists; lower-cased, trimmed, deduplicated. */
export function parseTags(...lists: (string | readonly unknown[] | null | undefined)[]): string[] {
  const tags = new Set<string>();
  for (const list of lists) {
    if (list == null) continue;
    const items = typeof list === "string" ? list.split(",") : list;
    for (const item of items) {
      if (typeof item !== "string") continue;
      const tag = item.trim().toLowerCase();
      if (tag && tags.size < MAX_REQUEST_TAGS) tags.add(tag);
    }
  }
  return [...tags];
}

const NO_BUDGET: BudgetFacts = { spent_usd: 0, spent_ratio: 0, window: "none" };

/** Builds the facts for one request. */
export function buildFacts(request: ChatRequest, context: FactsContext): Facts {
  let chars = 0;
  let tokens = 0;
  let systemChars = 0;
  let systemTokens = 0;
  let lastUser = "";
  let lastUserTokens = 0;
  let images = 0;
  for (const message of request.messages) {
    const text = contentText(message.content);
    const messageTokens = estimateTokens(text) + 4; // role and separators, as OpenAI counts them
    chars += text.length;
    tokens += messageTokens;
    if (message.role === "system" || message.role === "developer") {
      systemChars += text.length;
      systemTokens += messageTokens;
    } else if (message.role === "user") {
      lastUser = text;
      lastUserTokens = messageTokens - 4;
      if (Array.isArray(message.content)) {
        for (const part of message.content) if (part.type === "image_url") images++;
      }
    } else if (message.role === "assistant" && message.tool_calls) {
      for (const call of message.tool_calls) {
        tokens += estimateTokens(call.function.arguments) + estimateTokens(call.function.name) + 4;
      }
    }
  }
  // Tool definitions are part of the prompt the model reads.
  const tools = request.tools ?? [];
  for (const tool of tools) tokens += estimateTokens(JSON.stringify(tool.function)) + 4;
  tokens += images * 85 + 3;

  const headers = context.headers;
  const metadataTags = request.metadata?.tags;
  const tags = parseTags(
    headers?.get("x-switchyard-tags"),
    Array.isArray(metadataTags)
      ? metadataTags
      : typeof metadataTags === "string"
      ? metadataTags
      : undefined,
    context.caller?.tags,
  );
  const cap = Number(headers?.get("x-switchyard-max-cost-usd") ?? NaN);
  const budget = context.budget ?? NO_BUDGET;
  const now = context.now ?? new Date();
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;

  const facts: Facts = {
    request: {
      model: request.model,
      stream: request.stream === true,
      has_tools: tools.length > 0,
      tool_count: tools.length,
      response_format: request.response_format?.type ?? "text",
      message_count: request.messages.length,
    },
    prompt: {
      chars,
      tokens,
      system_chars: systemChars,
      system_tokens: systemTokens,
      last_user_chars: lastUser.length,
      last_user_tokens: lastUserTokens,
      has_images: images > 0,
      image_count: images,
    },
    tags,
    budget: Number.isFinite(cap) && cap >= 0 ? { ...budget, max_cost_usd: cap } : budget,
    budgets: context.budgets ?? { tags: {} },
    routes: context.routes,
    time: {
      hour: now.getUTCHours(),
      weekday: WEEKDAYS[now.getUTCDay()],
      date: now.toISOString().slice(0, 10),
    },
  };
  if (maxTokens != null) facts.request.max_tokens = maxTokens;
  if (request.temperature != null) facts.request.temperature = request.temperature;
  if (request.user) facts.request.user = request.user;
  if (context.caller?.key) facts.key = context.caller.key;
  if (context.caller?.team) facts.team = context.caller.team;
  return facts;
}

/** Zero health, for routes with no traffic yet. */
export function emptyHealth(): RouteHealth {
  return { error_rate: 0, requests: 0, p50_ms: 0, p95_ms: 0, ttft_p50_ms: 0, circuit: "closed" };
}

/**
 * The type of every fact, as data, so that policy expressions can be checked at load: a path
 * that names no fact (`prompt.tokenz`) or an expression that cannot yield a boolean is an error
 * before the policy ever serves. Keep in step with `Facts` in facts.ts (a test compares them).
 */

export type FactType = "boolean" | "number" | "string" | "array";
/** A fact's type, or the shape of an object of facts. `*` stands for any key. */
export type FactShape = FactType | { [key: string]: FactShape };

const BUDGET: FactShape = {
  limit_usd: "number",
  spent_usd: "number",
  remaining_usd: "number",
  spent_ratio: "number",
  window: "string",
  name: "string",
  max_cost_usd: "number",
};

const IDENTITY: FactShape = { id: "string", name: "string" };

/** The shape of one `routes.<name>` entry. */
export const ROUTE_FACT_SHAPE: FactShape = {
  via: "string",
  provider: "string",
  model: "string",
  price: { input: "number", cached_input: "number", output: "number" },
  context_tokens: "number",
  labels: { "*": "string" },
  available: "boolean",
  health: {
    error_rate: "number",
    requests: "number",
    p50_ms: "number",
    p95_ms: "number",
    ttft_p50_ms: "number",
    circuit: "string",
  },
};

/** The shape of the facts; `routes` is filled per policy with its route names. */
export const FACT_SHAPE: { [key: string]: FactShape } = {
  request: {
    model: "string",
    stream: "boolean",
    max_tokens: "number",
    temperature: "number",
    has_tools: "boolean",
    tool_count: "number",
    response_format: "string",
    message_count: "number",
    user: "string",
  },
  prompt: {
    chars: "number",
    tokens: "number",
    system_chars: "number",
    system_tokens: "number",
    last_user_chars: "number",
    last_user_tokens: "number",
    has_images: "boolean",
    image_count: "number",
  },
  tags: "array",
  budget: BUDGET,
  budgets: { key: BUDGET, team: BUDGET, tags: { "*": BUDGET } },
  key: IDENTITY,
  team: IDENTITY,
  routes: { "*": ROUTE_FACT_SHAPE },
  time: { hour: "number", weekday: "string", date: "string" },
};

/** The fact shape for a policy with these route names. */
export function factShapeFor(routeNames: readonly string[]): { [key: string]: FactShape } {
  return {
    ...FACT_SHAPE,
    routes: Object.fromEntries(routeNames.map((name) => [name, ROUTE_FACT_SHAPE])),
  };
}

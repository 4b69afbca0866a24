/**
 * The policy file format, as one zod schema. The JSON Schema that editors use
 * (`policies/policy.schema.json`) is generated from it by `deno task schema`, so the two cannot
 * drift (a test compares the committed file with a fresh generation).
 */
import { z } from "zod";
import { PROVIDERS } from "../upstream/adapter.ts";

const Name = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
  "Names use letters, digits, '_', '-' and '.', starting with a letter or digit",
);

export const PriceSchema = z.strictObject({
  input: z.number().nonnegative().describe("USD per million input (prompt) tokens."),
  cached_input: z.number().nonnegative().optional().describe(
    "USD per million cached input tokens (prompt-cache reads). Defaults to `input`.",
  ),
  cache_write: z.number().nonnegative().optional().describe(
    "USD per million tokens written to a prompt cache (Anthropic). Defaults to `input`.",
  ),
  output: z.number().nonnegative().describe("USD per million output tokens."),
}).describe("Prices in USD per million tokens.");
export type Price = z.infer<typeof PriceSchema>;

export const TimeoutSchema = z.strictObject({
  first_byte: z.number().int().positive().default(30_000).describe(
    "Milliseconds until the upstream's first response byte (first event when streaming).",
  ),
  idle: z.number().int().positive().default(30_000).describe(
    "Milliseconds allowed between two stream events.",
  ),
  total: z.number().int().positive().default(300_000).describe(
    "Milliseconds for the whole attempt, including the streamed body.",
  ),
});

const GatewaySchema = z.strictObject({
  provider: z.looseObject({
    order: z.array(z.string()).optional(),
    allow_fallbacks: z.boolean().optional(),
    require_parameters: z.boolean().optional(),
    data_collection: z.enum(["allow", "deny"]).optional(),
    zdr: z.boolean().optional(),
    only: z.array(z.string()).optional(),
    ignore: z.array(z.string()).optional(),
    quantizations: z.array(z.string()).optional(),
    sort: z.enum(["price", "throughput", "latency"]).optional(),
    max_price: z.record(z.string(), z.number()).optional(),
  }).optional().describe("OpenRouter provider-routing preferences, passed through as `provider`."),
  models: z.array(z.string()).min(1).optional().describe(
    "OpenRouter's own fallback models, passed through as `models`.",
  ),
}).describe("Options this gateway route sends to its gateway; never sent on other routes.");

export const RouteSchema = z.strictObject({
  via: z.enum(["direct", "gateway"]).describe(
    "`direct`: straight to the provider. `gateway`: through a gateway such as OpenRouter.",
  ),
  provider: z.enum(PROVIDERS).describe("The wire format and default endpoint of the upstream."),
  model: z.string().min(1).describe(
    "The upstream's model id, or `$request` to pass on the model the client asked for " +
      "(a gateway route serving many models).",
  ),
  base_url: z.string().min(1).optional().describe(
    "Overrides the provider's endpoint. `${VAR}` is replaced by an environment variable at load.",
  ),
  api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "Use an environment variable name")
    .optional().describe("Environment variable holding the key. Defaults per provider."),
  price: PriceSchema,
  context_tokens: z.number().int().positive().describe(
    "Context window in tokens (prompt plus output).",
  ),
  max_output_tokens: z.number().int().positive().optional().describe(
    "The model's output limit, for reference (shown in GET /v1/models).",
  ),
  timeout_ms: TimeoutSchema.prefault({}),
  fallback_on_status: z.array(z.number().int().min(400).max(499)).optional().describe(
    "Client-error statuses that fall back to the next route. Default: 401, 403, 404, 408, 409, " +
      "and 400s that say the prompt exceeds the context window.",
  ),
  fallbacks: z.array(Name).default([]).describe(
    "Routes tried after this one whenever it is used, after the rule's own fallbacks.",
  ),
  retries: z.number().int().min(0).max(5).default(0).describe(
    "Retries on this route (jittered backoff) before moving to a fallback.",
  ),
  labels: z.record(z.string(), z.string()).default({}).describe(
    "Free-form labels, visible to expressions as routes.<name>.labels.",
  ),
  gateway: GatewaySchema.optional(),
});
export type RouteSpec = z.infer<typeof RouteSchema>;

const Fallbacks = z.array(Name).default([]).describe("Route names tried in order when it fails.");

const SplitSchema = z.array(
  z.strictObject({
    route: Name,
    weight: z.number().positive().describe("Percent of traffic; a split's weights sum to 100."),
  }),
).min(2).describe("Weighted routes (canaries, A/B); sticky per `user` or session.");

export const RuleSchema = z.strictObject({
  name: Name,
  description: z.string().optional(),
  when: z.string().min(1).describe("A JSONata expression over the facts that yields a boolean."),
  route: z.union([Name, z.literal("$model")]).optional().describe(
    "A route name, or `$model`: the route the client named as `model` (the rule does not match " +
      "when the model names no route).",
  ),
  split: SplitSchema.optional(),
  fallbacks: Fallbacks,
  reason: z.string().optional().describe("Why this rule exists; shown in explanations."),
});
export type RuleSpec = z.infer<typeof RuleSchema>;

export const EvaluationSchema = z.strictObject({
  timeout_ms: z.number().int().positive().max(1000).default(10).describe(
    "Longest an expression may run (jsonata `timeout`).",
  ),
  max_depth: z.number().int().positive().max(10_000).default(200).describe(
    "Deepest an expression may recurse (jsonata `stack`).",
  ),
  max_sequence: z.number().int().positive().default(10_000).describe(
    "Largest sequence an expression may build (jsonata `sequence`).",
  ),
}).describe("Guardrails for runaway expressions.");

export const PolicySchema = z.strictObject({
  name: Name.describe("Policy name, reported in decisions, headers and traces."),
  version: z.union([z.string().min(1), z.number()]).transform(String).describe(
    "Policy version, e.g. 1.4.0.",
  ),
  description: z.string().optional(),
  routes: z.record(Name, RouteSchema).refine((r) => Object.keys(r).length > 0, {
    message: "A policy needs at least one route",
  }),
  rules: z.array(RuleSchema).default([]),
  default: z.strictObject({
    route: Name,
    fallbacks: Fallbacks,
    reason: z.string().optional(),
  }).describe("Where requests go when no rule matches."),
  accept_models: z.array(z.string().min(1)).default(["auto"]).describe(
    "Model names clients may send, as glob patterns (`*` matches anything). `auto` and route " +
      "names are always accepted. Any other model is answered with 404 model_not_found.",
  ),
  evaluation: EvaluationSchema.prefault({}),
});
export type PolicySpec = z.infer<typeof PolicySchema>;

/** The JSON Schema for policy files (draft-07, which every YAML language server understands). */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicySchema, { target: "draft-7", io: "input" });
  return {
    ...schema,
    $id: "https://switchyard.dev/policy.schema.json",
    title: "Switchyard routing policy",
  };
}

/**
 * A scenario: a request as a policy test or `policy explain` describes it (a raw body with
 * headers, or partial facts), turned into the facts a policy decides on. Shared by the test
 * runner, the explain command and the dry-run endpoint, so they can never disagree.
 */
import { z } from "zod";
import {
  type BudgetFacts,
  buildFacts,
  type CallerFacts,
  type Facts,
  type RouteFacts,
} from "../facts/facts.ts";
import { ChatRequestSchema } from "../upstream/types.ts";

const Identity = z.strictObject({ id: z.string(), name: z.string() });

/** Budget numbers; remaining and ratio are derived when not given. */
export const BudgetInputSchema = z.strictObject({
  limit_usd: z.number().nonnegative().optional(),
  spent_usd: z.number().nonnegative().default(0),
  window: z.enum(["day", "month", "none"]).optional(),
  name: z.string().optional(),
});

export const ScenarioSchema = z.strictObject({
  request: z.strictObject({
    body: z.unknown(),
    headers: z.record(z.string(), z.string()).default({}),
  }).optional().describe("A raw chat-completions request: body and headers."),
  caller: z.strictObject({
    key: Identity.optional(),
    team: Identity.optional(),
    tags: z.array(z.string()).default([]),
  }).optional().describe("The authenticated caller (its key's team and tags)."),
  budget: BudgetInputSchema.optional(),
  facts: z.record(z.string(), z.unknown()).optional().describe(
    "Facts to set directly, deep-merged over the facts of the request (or of a one-line request).",
  ),
  now: z.string().datetime().optional().describe("UTC time for `time` facts (ISO 8601)."),
});
export type Scenario = z.infer<typeof ScenarioSchema>;

/** The request used when a scenario gives only facts. */
const MINIMAL_REQUEST = { model: "auto", messages: [{ role: "user", content: "Hello" }] };

/** A scenario's request failed validation; `message` names the field. */
export class ScenarioError extends Error {
  override name = "ScenarioError";
}

/** Budget facts from a limit and a spend. */
export function budgetFacts(input: z.infer<typeof BudgetInputSchema>): BudgetFacts {
  if (input.limit_usd === undefined) {
    return { spent_usd: input.spent_usd, spent_ratio: 0, window: input.window ?? "none" };
  }
  const facts: BudgetFacts = {
    limit_usd: input.limit_usd,
    spent_usd: input.spent_usd,
    remaining_usd: Math.max(0, input.limit_usd - input.spent_usd),
    spent_ratio: input.limit_usd > 0 ? input.spent_usd / input.limit_usd : 1,
    window: input.window ?? "month",
  };
  if (input.name) facts.name = input.name;
  return facts;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Deep-merges `patch` into `target` (objects merge, everything else replaces). */
function deepMerge(target: Record<string, unknown>, patch: Record<string, unknown>) {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) {
      const copy = { ...current };
      deepMerge(copy, value);
      target[key] = copy;
    } else {
      target[key] = structuredClone(value);
    }
  }
}

/**
 * Builds the facts a scenario describes, over a policy's route facts. Without `now`, time facts
 * use `defaultNow` (tests pass a fixed instant so that results never depend on the clock).
 */
export function scenarioFacts(
  scenario: Scenario,
  routes: Record<string, RouteFacts>,
  defaultNow: Date = new Date(),
): Facts {
  const parsed = ChatRequestSchema.safeParse(scenario.request?.body ?? MINIMAL_REQUEST);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScenarioError(
      `Invalid request body at \`${issue.path.join(".") || "(root)"}\`: ${issue.message}`,
    );
  }
  const caller: CallerFacts | undefined = scenario.caller;
  const facts = buildFacts(parsed.data, {
    headers: new Headers(scenario.request?.headers ?? {}),
    caller,
    budget: scenario.budget ? budgetFacts(scenario.budget) : undefined,
    routes: structuredClone(routes),
    now: scenario.now ? new Date(scenario.now) : defaultNow,
  });
  if (scenario.facts) deepMerge(facts as unknown as Record<string, unknown>, scenario.facts);
  return facts;
}

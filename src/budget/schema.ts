/**
 * The budgets file (`policies/budgets.yaml`) and the client keys file (`policies/keys.yaml`, or a
 * configured path), as zod schemas. Their JSON Schemas, for editors, are generated from these
 * (`budgetsJsonSchema`, `keysJsonSchema`), so the two cannot drift.
 */
import { z } from "zod";

const Name = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
  "Names use letters, digits, '_', '-' and '.', starting with a letter or digit",
);

/** Request tags are trimmed and lower-cased, so a tag in a file must already be. */
const Tag = z.string().min(1).refine((t) => t === t.trim().toLowerCase(), {
  message: "Tags are compared trimmed and lower-cased: write them that way",
});

/**
 * The largest limit a budget may have: counters are exact integer nano-USD below 2^53 (about
 * 9 million USD per scope and window).
 */
export const MAX_LIMIT_USD = 9_000_000;

const EachOr = (what: string) =>
  z.union([z.literal("*"), Name]).describe(
    `A ${what} id, or "*" for every ${what} separately (each has its own spend against the limit).`,
  );

/** `key: <id|*>`, `team: <id|*>` or `tag: <name>`. */
export const ScopeSchema = z.union([
  z.strictObject({ key: EachOr("key") }),
  z.strictObject({ team: EachOr("team") }),
  z.strictObject({
    tag: Tag.refine((t) => t !== "*", {
      message: "A tag budget names one tag: clients choose their tags, so `*` would be unbounded",
    }).describe("A tag: the budget covers every request carrying it (header, body or key tags)."),
  }),
]).describe("Whose spend the budget limits: exactly one of `key`, `team` or `tag`.");
export type ScopeSpec = z.infer<typeof ScopeSchema>;

/** One budget entry. */
export const BudgetSchema = z.strictObject({
  name: Name.describe("Budget name, shown in facts, 429 errors and reports."),
  description: z.string().optional(),
  scope: ScopeSchema,
  window: z.enum(["day", "month"]).describe(
    "The UTC calendar day or month; spend resets at 00:00 UTC on the next day or month.",
  ),
  limit_usd: z.number().nonnegative().max(MAX_LIMIT_USD).describe(
    "The limit in USD. The budget is spent when spend (settled plus in flight) ≥ limit.",
  ),
  mode: z.enum(["hard", "soft"]).default("hard").describe(
    "`hard`: a spent budget answers 429 budget_exceeded. `soft`: it only informs the policy.",
  ),
});
export type BudgetSpec = z.infer<typeof BudgetSchema>;

/** A budgets file: `budgets:` and a list. */
export const BudgetsFileSchema = z.strictObject({
  budgets: z.array(BudgetSchema).describe("Every budget; all that apply to a request are checked."),
});
export type BudgetsFileSpec = z.infer<typeof BudgetsFileSchema>;

/** One client key entry (its hash, never the key). */
export const KeySchema = z.strictObject({
  id: Name.describe("Stable key id: facts `key.id`, budgets `scope: { key: <id> }`, reports."),
  name: z.string().min(1).describe("Who or what holds the key."),
  team: z.strictObject({
    id: Name,
    name: z.string().min(1),
  }).optional().describe("The key's team: facts `team.id`/`team.name`, budgets `scope: { team }`."),
  tags: z.array(Tag).default([]).describe("Tags every request with this key carries."),
  sha256: z.string().regex(
    /^[0-9a-f]{64}$/,
    "Write the key's SHA-256 as 64 lower-case hex digits (`deno task keys mint` prints it)",
  ).describe("SHA-256 of the key, hex. The key itself is never stored."),
});
export type KeySpec = z.infer<typeof KeySchema>;

/** A client keys file: `keys:` and a list. */
export const KeysFileSchema = z.strictObject({
  keys: z.array(KeySchema).describe(
    "Client keys; when any is configured, every request needs one.",
  ),
});
export type KeysFileSpec = z.infer<typeof KeysFileSchema>;

/** The JSON Schema for `policies/budgets.yaml` (draft-07). */
export function budgetsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(BudgetsFileSchema, { target: "draft-7", io: "input" }),
    $id: "https://switchyard.dev/budgets.schema.json",
    title: "Switchyard budgets",
  };
}

/** The JSON Schema for client keys files (draft-07). */
export function keysJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(KeysFileSchema, { target: "draft-7", io: "input" }),
    $id: "https://switchyard.dev/keys.schema.json",
    title: "Switchyard client keys",
  };
}

/** The generated schema files and their exact text (`deno task schema` writes them). */
export function budgetSchemaFiles(): { path: string; text: string }[] {
  return [
    {
      path: "policies/budgets.schema.json",
      text: JSON.stringify(budgetsJsonSchema(), null, 2) + "\n",
    },
    { path: "policies/keys.schema.json", text: JSON.stringify(keysJsonSchema(), null, 2) + "\n" },
  ];
}

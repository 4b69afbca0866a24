/**
 * Loading the budgets file and the client keys file: YAML (with positions) → schema (zod) →
 * whole-file checks. Every problem is collected and reported at once at its `file:line:col`, as
 * policy files are (the same `PolicySource`, `PolicyProblem` and `PolicyError`).
 */
import type { z } from "zod";
import { PolicyError, type PolicyProblem, sortProblems } from "../policy/problems.ts";
import { type Path, PolicySource } from "../policy/source.ts";
import { usdToNano } from "./cost.ts";
import { BudgetSchema, BudgetsFileSchema, KeySchema, KeysFileSchema } from "./schema.ts";
import { type Budget, type ClientKey, EACH } from "./types.ts";

/** The shipped budgets file; the keys file has no default (client keys are opt-in). */
export const DEFAULT_BUDGETS_FILE = "policies/budgets.yaml";

/** Loaded budgets, with the warnings found while loading. */
export interface BudgetSet {
  file: string;
  budgets: Budget[];
  warnings: PolicyProblem[];
}

/** Loaded client keys, with the warnings found while loading. */
export interface KeySet {
  file: string;
  keys: ClientKey[];
  warnings: PolicyProblem[];
}

/** Loads a budgets file; throws `PolicyError` listing every problem. */
export async function loadBudgets(
  file: string,
  options: { keys?: readonly ClientKey[] } = {},
): Promise<BudgetSet> {
  return parseBudgets(await readFile(file, "budgets"), file, options);
}

/** Loads a client keys file; throws `PolicyError` listing every problem. */
export async function loadKeys(file: string): Promise<KeySet> {
  return parseKeys(await readFile(file, "keys"), file);
}

/**
 * Validates budgets text; `file` is only used in messages. With `keys`, a budget naming a key or
 * team that no key has is a warning (it can never apply).
 */
export function parseBudgets(
  text: string,
  file: string,
  options: { keys?: readonly ClientKey[] } = {},
): BudgetSet {
  const { source, items, problems } = parseFile(
    text,
    file,
    BudgetsFileSchema,
    BudgetSchema,
    "budgets",
  );
  const seen = new Map<string, number>();
  const budgets: Budget[] = [];
  for (const { index, item: budget } of items) {
    const at = (path: Path, message: string, severity: "error" | "warning" = "error") =>
      problems.push({ file, ...source.locate(["budgets", index, ...path]), message, severity });
    const first = seen.get(budget.name);
    if (first !== undefined) {
      at(["name"], `Duplicate budget name \`${budget.name}\` (first at line ${first})`);
    }
    const line = source.locate(["budgets", index]).line;
    seen.set(budget.name, line);
    const [dimension, id] = "key" in budget.scope
      ? ["key", budget.scope.key] as const
      : "team" in budget.scope
      ? ["team", budget.scope.team] as const
      : ["tag", budget.scope.tag] as const;
    if (options.keys && id !== EACH && dimension !== "tag") {
      const known = dimension === "key"
        ? options.keys.some((k) => k.id === id)
        : options.keys.some((k) => k.team?.id === id);
      if (!known) {
        at(
          ["scope", dimension],
          `Budget \`${budget.name}\` names ${dimension} \`${id}\`, which no client key has`,
          "warning",
        );
      }
    }
    budgets.push({
      name: budget.name,
      ...(budget.description === undefined ? {} : { description: budget.description }),
      scope: { dimension, id },
      window: budget.window,
      limitUsd: budget.limit_usd,
      limitNano: usdToNano(budget.limit_usd),
      mode: budget.mode,
      file,
      line,
    });
  }
  return { file, budgets, warnings: finish(problems) };
}

/** Validates client keys text; `file` is only used in messages. */
export function parseKeys(text: string, file: string): KeySet {
  const { source, items, problems } = parseFile(text, file, KeysFileSchema, KeySchema, "keys");
  const ids = new Map<string, number>();
  const hashes = new Map<string, string>();
  const teams = new Map<string, { name: string; line: number }>();
  for (const { index, item: key } of items) {
    const at = (path: Path, message: string) =>
      problems.push({
        file,
        ...source.locate(["keys", index, ...path]),
        message,
        severity: "error",
      });
    const line = source.locate(["keys", index]).line;
    const firstId = ids.get(key.id);
    if (firstId !== undefined) {
      at(["id"], `Duplicate key id \`${key.id}\` (first at line ${firstId})`);
    }
    ids.set(key.id, line);
    const sameHash = hashes.get(key.sha256);
    if (sameHash !== undefined) {
      at(["sha256"], `Key \`${key.id}\` has the same hash as \`${sameHash}\``);
    }
    hashes.set(key.sha256, key.id);
    if (key.team) {
      const team = teams.get(key.team.id);
      if (team && team.name !== key.team.name) {
        at(
          ["team", "name"],
          `Team \`${key.team.id}\` is named \`${team.name}\` at line ${team.line}, not \`${key.team.name}\``,
        );
      } else if (!team) teams.set(key.team.id, { name: key.team.name, line });
    }
  }
  const keys = items.map(({ item }) => ({ ...item, tags: [...new Set(item.tags)] }));
  return { file, keys, warnings: finish(problems) };
}

async function readFile(file: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new PolicyError([{
      file,
      line: 1,
      col: 1,
      message: `Cannot read ${what} file: ${error instanceof Error ? error.message : error}`,
      severity: "error",
    }]);
  }
}

/**
 * YAML → zod, collecting every problem. When some entries are invalid, the valid ones are still
 * returned (with their index in the file), so the whole-file checks report everything in one run;
 * `finish` then throws. Throws at once when the file is unusable as a whole.
 */
function parseFile<File, Item>(
  text: string,
  file: string,
  schema: z.ZodType<File>,
  itemSchema: z.ZodType<Item>,
  field: "budgets" | "keys",
): { source: PolicySource; items: { index: number; item: Item }[]; problems: PolicyProblem[] } {
  const source = new PolicySource(file, text);
  const problems: PolicyProblem[] = [...source.syntaxProblems];
  if (problems.some((p) => p.severity === "error")) throw new PolicyError(sortProblems(problems));
  const value = source.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push({
      file,
      ...source.locate([]),
      message: `A ${field} file must be a YAML mapping with a \`${field}\` list`,
      severity: "error",
    });
    throw new PolicyError(problems);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...schemaProblems(source, issue, []));
  }
  const raw = (value as Record<string, unknown>)[field];
  const items: { index: number; item: Item }[] = [];
  if (Array.isArray(raw)) {
    raw.forEach((entry, index) => {
      const item = itemSchema.safeParse(entry);
      if (item.success) items.push({ index, item: item.data });
    });
  }
  return { source, items, problems };
}

function finish(problems: PolicyProblem[]): PolicyProblem[] {
  sortProblems(problems);
  if (problems.some((p) => p.severity === "error")) throw new PolicyError(problems);
  return problems;
}

/** True for issues that mean "this union branch is not the one the author meant". */
function wrongBranch(issue: z.core.$ZodIssue): boolean {
  return issue.code === "unrecognized_keys" || isMissing(issue);
}

function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === "invalid_type" && issue.message.endsWith("received undefined");
}

/** Turns one zod issue into problems at the right YAML nodes. */
function schemaProblems(
  source: PolicySource,
  issue: z.core.$ZodIssue,
  base: (string | number)[],
): PolicyProblem[] {
  const path = [...base, ...issue.path as (string | number)[]];
  const where = path.length ? `\`${path.join(".")}\`` : "the file";
  const problem = (position: { line: number; col: number }, message: string): PolicyProblem => ({
    file: source.file,
    ...position,
    message,
    severity: "error",
  });
  if (issue.code === "invalid_union") {
    // A scope like `{ tag: "*" }` fails every branch; report the branch the author meant.
    const meant = issue.errors.filter((branch) => !branch.some(wrongBranch));
    if (meant.length === 1) return meant[0].flatMap((inner) => schemaProblems(source, inner, path));
    if (path.at(-1) === "scope") {
      return [problem(
        source.locate(path),
        `Invalid ${where}: write exactly one of \`key: <id>\`, \`team: <id>\` or \`tag: <name>\``,
      )];
    }
  }
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) =>
      problem(source.locateKey(path, key), `Unknown field \`${key}\` in ${where}`)
    );
  }
  if (isMissing(issue)) return [problem(source.locate(path), `Missing required field ${where}`)];
  return [problem(source.locate(path), `Invalid ${where}: ${issue.message}`)];
}

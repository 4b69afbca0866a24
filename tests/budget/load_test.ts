import assert from "node:assert/strict";
import { loadBudgets, loadKeys, parseBudgets, parseKeys } from "../../src/budget/load.ts";
import { budgetSchemaFiles } from "../../src/budget/schema.ts";
import { formatProblem, PolicyError } from "../../src/policy/problems.ts";

/** The `file:line:col: message` lines of a file that fails to load. */
function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof PolicyError) return error.problems.map(formatProblem);
    throw error;
  }
  assert.fail("expected the file to be rejected");
}

Deno.test("budgets: the shipped policies/budgets.yaml loads without problems", async () => {
  const set = await loadBudgets("policies/budgets.yaml");
  assert.deepEqual(set.warnings, []);
  assert.ok(set.budgets.length >= 3);
  assert.ok(
    set.budgets.some((b) => b.mode === "soft") && set.budgets.some((b) => b.mode === "hard"),
  );
  const text = await Deno.readTextFile("policies/budgets.yaml");
  assert.ok(text.startsWith("# yaml-language-server: $schema=./budgets.schema.json"));
});

Deno.test("budgets: a budget file is read into scopes, windows, limits and modes", () => {
  const set = parseBudgets(
    `budgets:
  - name: team
    scope: { team: research }
    window: month
    limit_usd: 12.5
  - name: each-key
    scope: { key: "*" }
    window: day
    limit_usd: 0.1
    mode: soft
`,
    "b.yaml",
  );
  assert.deepEqual(
    set.budgets.map((b) => [b.name, b.scope, b.window, b.limitNano, b.mode, b.line]),
    [
      ["team", { dimension: "team", id: "research" }, "month", 12_500_000_000, "hard", 2],
      ["each-key", { dimension: "key", id: "*" }, "day", 100_000_000, "soft", 6],
    ],
  );
});

Deno.test("budgets: every problem is reported at its file:line:col", () => {
  const text = `budgets:
  - name: a
    scope: { tag: "*" }
    window: week
    limit_usd: -1
  - name: a
    scope: { key: x, team: y }
    window: day
    limit_usd: 1
    colour: red
  - name: c
    scope: { tag: EU }
    window: day
  - scope: { team: t }
    window: day
    limit_usd: 1
`;
  assert.deepEqual(problems(() => parseBudgets(text, "b.yaml")), [
    "b.yaml:3:19: Invalid `budgets.0.scope.tag`: A tag budget names one tag: clients choose their tags, so `*` would be unbounded",
    'b.yaml:4:13: Invalid `budgets.0.window`: Invalid option: expected one of "day"|"month"',
    "b.yaml:5:16: Invalid `budgets.0.limit_usd`: Too small: expected number to be >=0",
    "b.yaml:7:12: Invalid `budgets.1.scope`: write exactly one of `key: <id>`, `team: <id>` or `tag: <name>`",
    "b.yaml:10:5: Unknown field `colour` in `budgets.1`",
    "b.yaml:11:5: Missing required field `budgets.2.limit_usd`",
    "b.yaml:12:19: Invalid `budgets.2.scope.tag`: Tags are compared trimmed and lower-cased: write them that way",
    "b.yaml:14:5: Missing required field `budgets.3.name`",
  ]);
});

Deno.test("budgets: duplicate names are errors; budgets naming unknown keys are warnings", async () => {
  assert.deepEqual(
    problems(() =>
      parseBudgets(
        `budgets:
  - { name: a, scope: { tag: x }, window: day, limit_usd: 1 }
  - { name: a, scope: { tag: y }, window: day, limit_usd: 1 }
`,
        "b.yaml",
      )
    ),
    ["b.yaml:3:13: Duplicate budget name `a` (first at line 2)"],
  );
  const { keys } = await loadKeys("tests/budget/fixtures/keys.yaml");
  const set = parseBudgets(
    `budgets:
  - { name: a, scope: { key: k-nobody }, window: day, limit_usd: 1 }
  - { name: b, scope: { team: research }, window: day, limit_usd: 1 }
  - { name: c, scope: { team: "*" }, window: day, limit_usd: 1 }
`,
    "b.yaml",
    { keys },
  );
  assert.deepEqual(set.warnings.map(formatProblem), [
    "b.yaml:2:30: warning: Budget `a` names key `k-nobody`, which no client key has",
  ]);
});

Deno.test("budgets: YAML syntax errors and non-mappings are reported, unreadable files too", async () => {
  assert.match(
    problems(() => parseBudgets("budgets: [\n", "b.yaml"))[0],
    /^b\.yaml:2:1: YAML syntax error/,
  );
  assert.deepEqual(problems(() => parseBudgets("- a\n", "b.yaml")), [
    "b.yaml:1:1: A budgets file must be a YAML mapping with a `budgets` list",
  ]);
  await assert.rejects(
    loadBudgets("policies/nope.yaml"),
    (e) => e instanceof PolicyError && /^Cannot read budgets file/.test(e.problems[0].message),
  );
});

Deno.test("keys: a keys file holds ids, teams, tags and hashes", async () => {
  const set = await loadKeys("tests/budget/fixtures/keys.yaml");
  assert.deepEqual(set.keys.map((k) => [k.id, k.team?.id, k.tags]), [
    ["k-alice", "research", ["code"]],
    ["k-bob", "research", ["batch"]],
  ]);
});

Deno.test("keys: duplicate ids and hashes, bad hashes and team name clashes are errors", () => {
  const hash = "a".repeat(64);
  const text = `keys:
  - { id: one, name: One, sha256: ${hash}, team: { id: t, name: T } }
  - { id: one, name: Two, sha256: ${"c".repeat(64)}, team: { id: t, name: Tee } }
  - { id: two, name: Two, sha256: ${hash} }
  - { id: three, name: Three, sha256: ${hash.toUpperCase()} }
  - { id: four, name: Four, key: sy-plaintext, sha256: ${"b".repeat(64)} }
`;
  assert.deepEqual(problems(() => parseKeys(text, "k.yaml")), [
    "k.yaml:3:11: Duplicate key id `one` (first at line 2)",
    "k.yaml:3:122: Team `t` is named `T` at line 2, not `Tee`",
    "k.yaml:4:35: Key `two` has the same hash as `one`",
    "k.yaml:5:39: Invalid `keys.3.sha256`: Write the key's SHA-256 as 64 lower-case hex digits (`deno task keys mint` prints it)",
    "k.yaml:6:29: Unknown field `key` in `keys.4`",
  ]);
});

Deno.test("the committed budgets and keys JSON Schemas are the generated ones", async () => {
  for (const { path, text } of budgetSchemaFiles()) {
    assert.equal(await Deno.readTextFile(path), text, `${path} is stale: run \`deno task schema\``);
  }
});

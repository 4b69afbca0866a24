import assert from "node:assert/strict";
import { loadPolicy, parsePolicy } from "../../src/policy/load.ts";
import { PolicyError } from "../../src/policy/problems.ts";
import { schemaFiles } from "../../src/cli/schema.ts";

const MINIMAL = `
name: tiny
version: 1
routes:
  local:
    via: direct
    provider: openai-compatible
    model: llama3
    base_url: \${LOCAL_URL}/v1
    price: { input: 0, output: 0 }
    context_tokens: 8192
default: { route: local }
`;

Deno.test("every shipped policy loads without problems", async () => {
  for (const entry of Deno.readDirSync("policies")) {
    if (!entry.name.endsWith(".yaml") || entry.name.endsWith(".test.yaml")) continue;
    if (entry.name === "budgets.yaml" || entry.name === "keys.yaml") continue; // tests/budget/
    const policy = await loadPolicy(`policies/${entry.name}`, {
      env: (name) => name === "BENCH_UPSTREAM_URL" ? "http://127.0.0.1:18001/v1" : undefined,
    });
    assert.deepEqual(policy.warnings, [], entry.name);
    assert.match(policy.hash, /^[0-9a-f]{12}$/);
    const text = Deno.readTextFileSync(`policies/${entry.name}`);
    assert.ok(
      text.startsWith("# yaml-language-server: $schema=./policy.schema.json"),
      `${entry.name} names the schema on its first line`,
    );
  }
});

Deno.test("the committed JSON Schemas (policy, budgets, keys) are the generated ones", () => {
  for (const { path, text } of schemaFiles()) {
    assert.equal(Deno.readTextFileSync(path), text, `${path} is stale: run \`deno task schema\``);
  }
});

Deno.test("the content hash ignores comments and formatting but not content", async () => {
  const env = () => "http://127.0.0.1:1";
  const a = await parsePolicy(MINIMAL, "a.yaml", { env });
  const b = await parsePolicy(
    `# a comment\n${
      MINIMAL.replace("{ input: 0, output: 0 }", "\n      input: 0\n      output: 0")
    }`,
    "b.yaml",
    { env },
  );
  const c = await parsePolicy(MINIMAL.replace("llama3", "llama3.1"), "c.yaml", { env });
  assert.equal(a.hash, b.hash);
  assert.notEqual(a.hash, c.hash);
});

Deno.test("`${VAR}` in base_url is resolved once at load", async () => {
  const policy = await parsePolicy(MINIMAL, "t.yaml", {
    env: (name) => name === "LOCAL_URL" ? "http://127.0.0.1:11434" : undefined,
  });
  assert.equal(policy.routes.local.baseUrl, "http://127.0.0.1:11434/v1");
});

Deno.test("an unset `${VAR}` is a warning when checking and an error when serving", async () => {
  const checked = await parsePolicy(MINIMAL, "t.yaml", { env: () => undefined });
  assert.equal(checked.warnings.length, 1);
  assert.match(checked.warnings[0].message, /`LOCAL_URL` in `base_url` is not set/);
  assert.deepEqual([checked.warnings[0].line, checked.warnings[0].col], [9, 15]);
  await assert.rejects(
    parsePolicy(MINIMAL, "t.yaml", { env: () => undefined, requireEnv: true }),
    (e: unknown) => e instanceof PolicyError && /LOCAL_URL/.test(e.message),
  );
});

Deno.test("unreachable rules and unused routes are warnings, not errors", async () => {
  const policy = await parsePolicy(
    `
name: w
version: 1
routes:
  a: { via: direct, provider: openai, model: m, price: { input: 1, output: 1 }, context_tokens: 10 }
  b: { via: direct, provider: openai, model: m, price: { input: 1, output: 1 }, context_tokens: 10 }
  c: { via: direct, provider: openai, model: m, price: { input: 1, output: 1 }, context_tokens: 10 }
rules:
  - { name: always, when: "true", route: a }
  - { name: never, when: "false", route: b }
default: { route: a }
`,
    "w.yaml",
  );
  const messages = policy.warnings.map((w) => `${w.line}: ${w.message}`);
  assert.deepEqual(messages, [
    "7: Route `c` is never used by a rule, a fallback or the default",
    "10: Rule `never` and every rule after it can never match: rule `always` always matches",
  ]);
});

Deno.test("a missing policy file is a PolicyError naming the file", async () => {
  await assert.rejects(
    loadPolicy("policies/does-not-exist.yaml"),
    (e: unknown) =>
      e instanceof PolicyError && e.problems[0].file === "policies/does-not-exist.yaml" &&
      /Cannot read policy file/.test(e.problems[0].message),
  );
});

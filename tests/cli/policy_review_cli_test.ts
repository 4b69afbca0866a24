/**
 * `policy diff` and `policy replay` run as real processes, with the task's permissions, inside a
 * temporary git repository: the base policy is read from a real commit, the working tree edited.
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { loadPolicy } from "../../src/policy/load.ts";
import type { DiffReport } from "../../src/policy/diff_types.ts";
import { generateRecords, logText } from "../log/generate.ts";
import { TIERS, tiersCost, tiersDecision } from "../policy/tiers_oracle.ts";

const ROOT = resolve(".");
const CLI = join(ROOT, "src/cli.ts");
const records = await generateRecords(await loadPolicy(TIERS), { count: 300, seed: 5 });
const moved = records.filter((r) =>
  tiersDecision(r.facts).route !== tiersDecision(r.facts, 1500).route
);

async function run(cmd: string, args: string[], cwd: string) {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: decode(stdout), err: decode(stderr) };
}

/** The CLI with exactly the permissions of the `policy:diff` task. */
async function cli(cwd: string, ...args: string[]) {
  return await run(Deno.execPath(), [
    "run",
    "--config",
    join(ROOT, "deno.json"),
    "--allow-read",
    "--allow-run=git",
    "--allow-env",
    CLI,
    "policy",
    ...args,
  ], cwd);
}

async function git(cwd: string, ...args: string[]) {
  const r = await run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], cwd);
  assert.equal(r.code, 0, r.err);
  return r.out;
}

/** A repo with tiers.yaml committed as policies/default.yaml, then its threshold lowered. */
async function repo(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-diff-" });
  await Deno.mkdir(join(dir, "policies"));
  const policy = await Deno.readTextFile(TIERS);
  await Deno.writeTextFile(join(dir, "policies/default.yaml"), policy);
  await Deno.copyFile(
    "tests/fixtures/review/tiers.test.yaml",
    join(dir, "policies/default.test.yaml"),
  );
  await git(dir, "init", "--quiet");
  await git(dir, "add", ".");
  await git(dir, "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", "policy");
  const lowered = policy.replace("when: prompt.tokens <= 2000\n", "when: prompt.tokens <= 1500\n");
  assert.notEqual(lowered, policy);
  await Deno.writeTextFile(join(dir, "policies/default.yaml"), lowered);
  await Deno.writeTextFile(join(dir, "decisions.jsonl"), logText(records));
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("policy diff --base HEAD --log: the flip matrix and cost delta of a lowered threshold", async () => {
  await using repository = await repo();
  const { dir } = repository;
  const status = await git(dir, "status", "--porcelain");
  const working = await Deno.readTextFile(join(dir, "policies/default.yaml"));
  const r = await cli(
    dir,
    "diff",
    "--base",
    "HEAD",
    "--log",
    "decisions.jsonl",
    "--format",
    "json",
  );
  assert.equal(r.code, 0, r.err);
  const report: DiffReport = JSON.parse(r.out);
  assert.equal(report.base.revision, "HEAD");
  assert.equal(report.base.file, "HEAD:policies/default.yaml");
  assert.equal(report.requests, 300);
  assert.deepEqual(
    report.flips.map((f) => [f.from, f.to, f.count]),
    [["gpt-mini", "claude-haiku", moved.length]],
  );
  assert.deepEqual(report.flips[0].examples, moved.slice(0, 3).map((m) => m.request_id));
  const delta = moved.reduce(
    (s, m) => s + tiersCost(m, "claude-haiku") - tiersCost(m, "gpt-mini"),
    0,
  );
  assert.ok(report.cost.deltaUsd > 0);
  assert.ok(Math.abs(report.cost.deltaUsd - delta) < 1e-12, `${report.cost.deltaUsd} vs ${delta}`);
  assert.equal(await git(dir, "status", "--porcelain"), status, "git state untouched");
  assert.equal(await Deno.readTextFile(join(dir, "policies/default.yaml")), working);
});

Deno.test("policy diff --fail-on-flip: exit 1 on any flip, 0 when restricted to unaffected routes or tags", async () => {
  await using repository = await repo();
  const { dir } = repository;
  const diff = (...extra: string[]) =>
    cli(dir, "diff", "--base", "HEAD", "--log", "decisions.jsonl", ...extra);
  const any = await diff("--fail-on-flip");
  assert.equal(any.code, 1, any.err);
  assert.match(any.out, new RegExp(`FAIL --fail-on-flip: ${moved.length} flipped request\\(s\\)`));
  assert.equal((await diff("--fail-on-flip", "gpt-mini")).code, 1);
  assert.equal((await diff("--fail-on-flip=claude-haiku,tag:eu")).code, 1);
  const unaffected = await diff("--fail-on-flip", "mistral-medium,mistral-small,tag:eu");
  assert.equal(unaffected.code, 0, unaffected.out);
  assert.match(unaffected.out, /ok --fail-on-flip: no flipped request involving/);
  const typo = await diff("--fail-on-flip", "gpt-mni");
  assert.equal(typo.code, 64, "an unknown route is a usage error, not a silent pass");
  assert.match(typo.err, /no route `gpt-mni`/);
});

Deno.test("policy diff --format markdown is a review comment with the matrix table", async () => {
  await using repository = await repo();
  const { dir } = repository;
  const r = await cli(
    dir,
    "diff",
    "--base",
    "HEAD",
    "--log",
    "decisions.jsonl",
    "--format",
    "markdown",
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^### Policy diff: `tiers` 1\.0\.0 \(`[0-9a-f]{12}`, `HEAD`\) → /);
  assert.match(r.out, /^\| base ↓ \/ head → \|( (gpt-mini|claude-haiku) \|){2}$/m);
  assert.match(r.out, /^\| --- \| ---: \| ---: \|$/m);
  assert.match(r.out, new RegExp(`^\\| gpt-mini \\| claude-haiku \\| ${moved.length} \\|`, "m"));
  assert.match(r.out, /^\| total \| \$[\d.]+ \| \$[\d.]+ \| \+\$[\d.]+ \(\+[\d.]+%\) \|$/m);
  assert.match(r.out, /Latency \(median of successful attempts per route\): mean per request/);
});

Deno.test("policy diff finds the policy's path in the repository from a subdirectory", async () => {
  await using repository = await repo();
  const { dir } = repository;
  const r = await cli(
    join(dir, "policies"),
    "diff",
    "--base",
    "HEAD",
    "--policy",
    "default.yaml",
    "--format",
    "json",
  );
  assert.equal(r.code, 0, r.err);
  const report: DiffReport = JSON.parse(r.out);
  assert.equal(report.base.file, "HEAD:policies/default.yaml");
  assert.equal(report.source.kind, "tests", "without --log, the test cases are compared");
  assert.deepEqual(report.flips.map((f) => f.examples), [["a prompt of 1800 tokens is small"]]);
});

Deno.test("policy diff exits 2 with a clear error when the base cannot be loaded", async () => {
  await using repository = await repo();
  const { dir } = repository;
  await Deno.copyFile(join(dir, "policies/default.yaml"), join(dir, "policies/new.yaml"));
  const missing = await cli(dir, "diff", "--base", "HEAD", "--policy", "policies/new.yaml");
  assert.equal(missing.code, 2);
  assert.match(missing.err, /`policies\/new\.yaml` did not exist at `HEAD`/);
  const unknown = await cli(dir, "diff", "--base", "no-such-branch");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /Unknown git revision `no-such-branch`/);
  await Deno.writeTextFile(join(dir, "policies/default.yaml"), "name: broken\n");
  const broken = await cli(dir, "diff", "--base", "HEAD");
  assert.equal(broken.code, 2);
  assert.match(broken.err, /policies\/default\.yaml:1:1: Missing required field/);
  const usage = await cli(dir, "diff");
  assert.equal(usage.code, 64);
});

Deno.test("policy replay prints per-rule and per-route counts of a log", async () => {
  await using repository = await repo();
  const { dir } = repository;
  const r = await cli(dir, "replay", "decisions.jsonl", "--format", "json");
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.requests, 300);
  assert.equal(report.changed, moved.length, "the working tree's policy moves the band");
  const haiku = records.filter((m) => tiersDecision(m.facts, 1500).route === "claude-haiku");
  assert.equal(
    report.routes.find((x: { route: string }) => x.route === "claude-haiku").count,
    haiku.length,
  );
  const pretty = await cli(dir, "replay", "decisions.jsonl");
  assert.match(pretty.out, /never fired: tools/);
  const missing = await cli(dir, "replay", "nope.jsonl");
  assert.equal(missing.code, 2);
});

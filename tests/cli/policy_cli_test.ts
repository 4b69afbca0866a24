/** The policy toolchain run as a real process: output, formats and exit codes. */
import assert from "node:assert/strict";

const FIXTURES = "tests/fixtures/policy-tests";

async function cli(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "src/cli.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    out: new TextDecoder().decode(stdout),
    err: new TextDecoder().decode(stderr),
  };
}

Deno.test("policy check: the shipped policies are valid (exit 0)", async () => {
  const r = await cli("policy", "check");
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /ok {3}policies\/default\.yaml/);
  assert.match(r.out, /0 error\(s\)/);
});

Deno.test("policy check: a broken policy prints file:line:col for every error and exits 2", async () => {
  const file = "tests/fixtures/broken/23-many-problems.yaml";
  const r = await cli("policy", "check", file);
  assert.equal(r.code, 2);
  assert.match(r.out, /23-many-problems\.yaml:16:5: Unknown field `colour`/);
  assert.match(r.out, /23-many-problems\.yaml:20:12: Rule `one` names unknown route `nowhere`/);
  assert.match(r.out, /4 error\(s\)/);
});

Deno.test("policy check --format json is the typed report", async () => {
  const r = await cli(
    "policy",
    "check",
    "--format",
    "json",
    "tests/fixtures/broken/07-unknown-rule-route.yaml",
  );
  assert.equal(r.code, 2);
  const report = JSON.parse(r.out);
  assert.equal(report.errors, 1);
  assert.equal(report.files[0].valid, false);
  assert.deepEqual(
    [report.files[0].problems[0].line, report.files[0].problems[0].col],
    [19, 12],
  );
});

Deno.test("policy check --format github prints workflow annotations", async () => {
  const r = await cli(
    "policy",
    "check",
    "--format",
    "github",
    "tests/fixtures/broken/14-split-weights.yaml",
  );
  assert.equal(r.code, 2);
  assert.match(
    r.out,
    /^::error file=tests\/fixtures\/broken\/14-split-weights\.yaml,line=20,col=7::Split weights sum to 90/m,
  );
});

Deno.test("policy test: the shipped tests pass with full coverage and end with the summary line", async () => {
  const r = await cli("policy", "test", "--coverage-threshold", "100");
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /coverage default \(policies\/default\.yaml\): 100% of rules/);
  assert.match(r.out.trimEnd().split("\n").at(-1)!, /^\d+ passed, 0 failed$/);
});

Deno.test("policy test: a failing case shows expected, actual and the explanation; exit 1", async () => {
  const r = await cli("policy", "test", `${FIXTURES}/failing.test.yaml`);
  assert.equal(r.code, 1);
  assert.match(r.out, /FAIL this expectation is wrong on purpose \(.*failing\.test\.yaml:3\)/);
  assert.match(r.out, /expected: route=cheap/);
  assert.match(r.out, /actual: {3}route=gw rule=big via=gateway/);
  assert.match(r.out, /big +✔ match/);
  assert.equal(r.out.trimEnd().split("\n").at(-1), "1 passed, 1 failed");
});

Deno.test("policy test: coverage below the threshold fails and names the unmatched rules", async () => {
  const r = await cli(
    "policy",
    "test",
    "--coverage-threshold",
    "100",
    `${FIXTURES}/passing.test.yaml`,
  );
  assert.equal(r.code, 1);
  assert.match(r.out, /coverage mini .*: 50% of rules; never matched: big/);
  assert.match(r.out, /below the threshold of 100%/);
  assert.equal(r.out.trimEnd().split("\n").at(-1), "2 passed, 0 failed");
});

Deno.test("policy test: an invalid test file exits 2 with its position", async () => {
  const r = await cli("policy", "test", `${FIXTURES}/invalid.test.yaml`);
  assert.equal(r.code, 2);
  assert.match(r.out, /invalid\.test\.yaml:3:5: Invalid `cases\.0\.expect`/);
});

Deno.test("policy test: a case with an invalid request fails and names the field", async () => {
  const r = await cli("policy", "test", `${FIXTURES}/bad-request.test.yaml`);
  assert.equal(r.code, 1);
  assert.match(r.out, /Invalid request body at `messages`/);
});

Deno.test("policy test: no test case at all is a failure", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const r = await cli("policy", "test", empty);
    assert.equal(r.code, 1);
    assert.match(r.out, /no test case ran/);
    assert.equal(r.out.trimEnd().split("\n").at(-1), "0 passed, 0 failed");
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("policy test --format json is the typed report", async () => {
  const r = await cli("policy", "test", "--format", "json", `${FIXTURES}/failing.test.yaml`);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.out);
  assert.equal(report.passed, 1);
  assert.equal(report.failed, 1);
  assert.equal(report.cases[0].actual.route, "gw");
  assert.deepEqual(report.coverage[0].uncovered, ["code"]);
});

Deno.test("policy explain prints the facts, each rule's result and the decision", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/req.json`,
      JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hello" }] }),
    );
    const r = await cli("policy", "explain", `${dir}/req.json`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /"tokens": \d+/);
    assert.match(r.out, /eu-compliance +· no match/);
    assert.match(r.out, /small-prompt +✔ match/);
    assert.match(r.out, /decision {2}route=gpt-mini via=direct rule=small-prompt/);

    await Deno.writeTextFile(
      `${dir}/scenario.json`,
      JSON.stringify({
        request: {
          body: { model: "auto", messages: [{ role: "user", content: "Hi" }] },
          headers: { "x-switchyard-tags": "eu" },
        },
      }),
    );
    const j = await cli("policy", "explain", `${dir}/scenario.json`, "--json");
    assert.equal(j.code, 0, j.err);
    const report = JSON.parse(j.out);
    assert.equal(report.decision.route, "mistral-medium");
    assert.equal(report.decision.rule, "eu-compliance");
    assert.deepEqual(report.facts.tags, ["eu"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("policy explain: a missing file is a usage error (exit 64)", async () => {
  const r = await cli("policy", "explain", "no-such-request.json");
  assert.equal(r.code, 64);
  assert.match(r.err, /Cannot read no-such-request\.json as JSON/);
});

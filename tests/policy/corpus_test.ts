/**
 * The broken-policy corpus: every file under fixtures/broken ends with `# expect L:C: message`
 * comments, and loading it must report exactly those errors at exactly those positions.
 */
import assert from "node:assert/strict";
import { loadPolicy } from "../../src/policy/load.ts";
import { PolicyError } from "../../src/policy/problems.ts";

const DIR = new URL("../fixtures/broken/", import.meta.url);
const files = [...Deno.readDirSync(DIR)].map((e) => e.name).filter((n) => n.endsWith(".yaml"))
  .sort();

Deno.test("the broken-policy corpus has at least 15 files", () => {
  assert.ok(files.length >= 15, `only ${files.length} broken policies`);
});

for (const name of files) {
  Deno.test(`loadPolicy() reports every problem of ${name} at its line and column`, async () => {
    const path = new URL(name, DIR).pathname;
    const expected = Deno.readTextFileSync(path).split("\n")
      .map((line) => line.match(/^# expect (\d+):(\d+): (.*)$/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map(([, line, col, message]) => ({ line: Number(line), col: Number(col), message }));
    assert.ok(expected.length > 0, `${name} has no # expect lines`);
    const error = await loadPolicy(path, { env: () => undefined }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof PolicyError, `${name} loaded without errors`);
    const errors = error.problems.filter((p) => p.severity === "error");
    assert.equal(errors.length, expected.length, error.message);
    for (const [i, want] of expected.entries()) {
      const got = errors[i];
      assert.equal(got.file, path);
      assert.deepEqual([got.line, got.col], [want.line, want.col], `${name}: ${got.message}`);
      assert.ok(got.message.startsWith(want.message), `${got.message} ≠ ${want.message}`);
    }
  });
}

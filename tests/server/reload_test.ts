/**
 * Hot reload over a real file watcher: a valid change swaps the policy for new requests while
 * requests already running finish on the old one; a broken file is rejected with `file:line:col`
 * problems and the last good policy keeps serving; a burst of writes is one reload.
 */
import assert from "node:assert/strict";
import { chat, hello, sseData, startTestServer, type TestServer } from "./harness.ts";
import { startStubUpstream } from "./stub_upstream.ts";

const ROUTES = `
routes:
  openai:
    via: direct
    provider: openai
    model: gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
  mistral:
    via: direct
    provider: mistral
    model: mistral-small-latest
    price: { input: 0.1, output: 0.3 }
    context_tokens: 128000
`;

/** A valid policy whose default route and version are the test's to choose. */
function policy(version: number, route: string, extraRoutes = ""): string {
  return `name: reloadable\nversion: ${version}\n${ROUTES}${extraRoutes}default: { route: ${route} }\n`;
}

const WATCHED = { watch: true, reloadDebounceMs: 30 };

interface PolicyStatus {
  name: string;
  version: string;
  hash: string;
  reloads: number;
  last_reload_error: null | {
    problems: { file: string; line: number; col: number; message: string; severity: string }[];
  };
}

async function status(server: TestServer): Promise<PolicyStatus> {
  const response = await fetch(`${server.url}/v1/policy`);
  assert.equal(response.status, 200);
  return await response.json();
}

/** Polls `/v1/policy` until `done` holds; fails after `ms`. */
async function waitForStatus(
  server: TestServer,
  done: (s: PolicyStatus) => boolean,
  what: string,
  ms = 3000,
): Promise<PolicyStatus> {
  const until = Date.now() + ms;
  for (;;) {
    const current = await status(server);
    if (done(current)) return current;
    if (Date.now() > until) {
      assert.fail(`timed out waiting for ${what}: ${JSON.stringify(current)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("reload: a valid change swaps the policy and new requests use it", async () => {
  await using server = await startTestServer({ policy: policy(1, "openai"), config: WATCHED });
  const before = await status(server);
  assert.equal(before.reloads, 0);
  const first = await chat(server, hello());
  await first.body?.cancel();
  assert.equal(first.headers.get("x-switchyard-route"), "openai");

  await Deno.writeTextFile(server.policyFile, policy(2, "mistral"));
  const after = await waitForStatus(server, (s) => s.reloads === 1, "the reload");
  assert.equal(after.version, "2");
  assert.notEqual(after.hash, before.hash);
  assert.equal(after.last_reload_error, null);

  const next = await chat(server, hello());
  await next.body?.cancel();
  assert.equal(next.headers.get("x-switchyard-route"), "mistral");
  assert.equal(next.headers.get("x-switchyard-policy"), `reloadable@2#${after.hash}`);
  assert.ok(server.logs.some((l) => l.startsWith("policy reloaded: reloadable 2")));
});

Deno.test("reload: a stream started before the swap finishes on the old policy", async () => {
  await using upstream = startStubUpstream({ hold: true });
  const held = `  held:
    via: direct
    provider: openai-compatible
    model: held-model
    base_url: ${upstream.origin}/v1
    price: { input: 0, output: 0 }
    context_tokens: 8192
`;
  await using server = await startTestServer({
    policy: policy(1, "held", held),
    config: WATCHED,
  });
  const old = await status(server);
  // Headers arrive once the first content chunk did; the stub then holds the rest of the stream.
  const inFlight = await chat(server, hello({ stream: true }));
  assert.equal(inFlight.status, 200);

  await Deno.writeTextFile(server.policyFile, policy(2, "openai", held));
  const swapped = await waitForStatus(server, (s) => s.reloads === 1, "the reload");
  const fresh = await chat(server, hello());
  await fresh.body?.cancel();
  assert.equal(fresh.headers.get("x-switchyard-route"), "openai", "new requests use the new one");

  upstream.release();
  assert.equal(inFlight.headers.get("x-switchyard-policy"), `reloadable@1#${old.hash}`);
  assert.equal(inFlight.headers.get("x-switchyard-route"), "held");
  const data = await sseData(inFlight);
  assert.equal(data.at(-1), "[DONE]");
  const text = data.slice(0, -1).map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "");
  assert.equal(text.join(""), "stub 0 from held-model 1 2 3");
  assert.notEqual(swapped.hash, old.hash);
});

Deno.test("reload: a broken file is rejected with file:line:col, the old policy keeps serving, a fix clears the error", async () => {
  await using server = await startTestServer({ policy: policy(1, "openai"), config: WATCHED });
  const good = await status(server);

  // A YAML syntax error: an unclosed flow mapping on line 4.
  await Deno.writeTextFile(
    server.policyFile,
    "name: reloadable\nversion: 2\nroutes:\n  openai: { via: direct\ndefault: { route: openai }\n",
  );
  const broken = await waitForStatus(server, (s) => s.last_reload_error !== null, "the rejection");
  assert.equal(broken.hash, good.hash, "the last good policy keeps serving");
  assert.equal(broken.reloads, 0);
  const problem = broken.last_reload_error!.problems[0];
  assert.equal(problem.file, server.policyFile);
  assert.ok(problem.line >= 4 && problem.col >= 1, JSON.stringify(problem));
  const logged = server.logs.find((l) => l.startsWith("policy reload rejected"));
  assert.ok(logged, "the rejection is logged");
  assert.ok(logged.includes(`${problem.file}:${problem.line}:${problem.col}: `), logged);
  const served = await chat(server, hello());
  await served.body?.cancel();
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("x-switchyard-policy"), `reloadable@1#${good.hash}`);

  // A schema error: a price that is not a number, reported at its own line and column.
  const schemaBroken = policy(3, "openai").replace("input: 0.1,", 'input: "cheap",');
  const line = schemaBroken.split("\n").findIndex((l) => l.includes('"cheap"')) + 1;
  const col = schemaBroken.split("\n")[line - 1].indexOf('"cheap"') + 1;
  await Deno.writeTextFile(server.policyFile, schemaBroken);
  const rejected = await waitForStatus(
    server,
    (s) => s.last_reload_error?.problems.some((p) => p.line === line) === true,
    "the schema rejection",
  );
  const priceProblem = rejected.last_reload_error!.problems.find((p) => p.line === line)!;
  assert.equal(priceProblem.col, col, JSON.stringify(priceProblem));
  assert.ok(server.logs.some((l) => l.includes(`${server.policyFile}:${line}:${col}: `)));
  assert.equal(rejected.hash, good.hash);

  // Undoing the edit (the same policy as the one serving) clears the error.
  await Deno.writeTextFile(server.policyFile, policy(1, "openai"));
  const restored = await waitForStatus(server, (s) => s.last_reload_error === null, "the fix");
  assert.equal(restored.hash, good.hash);

  // And a fix that changes the policy swaps it in.
  await Deno.writeTextFile(server.policyFile, "# broken\nname: [");
  await waitForStatus(server, (s) => s.last_reload_error !== null, "another rejection");
  await Deno.writeTextFile(server.policyFile, policy(4, "mistral"));
  const fixed = await waitForStatus(server, (s) => s.reloads === 1, "the fixed reload");
  assert.equal(fixed.last_reload_error, null);
  assert.equal(fixed.version, "4");
});

Deno.test("reload: a burst of writes (an editor saving in several events) is one reload", async () => {
  await using server = await startTestServer({
    policy: policy(1, "openai"),
    config: { watch: true, reloadDebounceMs: 100 },
  });
  // Truncate, a half-written file, then two complete versions, 15 ms apart: one debounce window.
  const writes = [
    "",
    policy(2, "mistral").slice(0, 40),
    policy(3, "mistral"),
    policy(4, "mistral"),
  ];
  for (const [i, text] of writes.entries()) {
    if (i > 0) await pause(15);
    await Deno.writeTextFile(server.policyFile, text);
  }
  const after = await waitForStatus(server, (s) => s.reloads >= 1, "the reload");
  assert.equal(after.version, "4");
  await pause(250); // more than two debounce windows: a second reload would have happened by now
  const settled = await status(server);
  assert.equal(settled.reloads, 1);
  assert.equal(settled.last_reload_error, null);
  assert.equal(server.logs.filter((l) => l.startsWith("policy reloaded")).length, 1);
  assert.equal(server.logs.filter((l) => l.startsWith("policy reload rejected")).length, 0);
});

Deno.test("reload: a save that writes a temporary file and renames it over the policy is picked up", async () => {
  await using server = await startTestServer({ policy: policy(1, "openai"), config: WATCHED });
  const dir = server.policyFile.slice(0, server.policyFile.lastIndexOf("/"));
  await Deno.writeTextFile(`${dir}/.policy.yaml.swp`, policy(2, "mistral"));
  await Deno.rename(`${dir}/.policy.yaml.swp`, server.policyFile);
  const after = await waitForStatus(server, (s) => s.reloads === 1, "the reload");
  assert.equal(after.version, "2");
  const next = await chat(server, hello());
  await next.body?.cancel();
  assert.equal(next.headers.get("x-switchyard-route"), "mistral");
});

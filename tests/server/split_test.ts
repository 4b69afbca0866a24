/**
 * Split rules through the server: the arm is sticky per caller-chosen key (the OpenAI `user`, else
 * the `x-switchyard-session` header, else the request id), and across many keys the traffic
 * follows the weights.
 */
import assert from "node:assert/strict";
import { chat, hello, startTestServer, type TestServer } from "./harness.ts";

const SPLIT_POLICY = `
name: split
version: 1
routes:
  stable:
    via: direct
    provider: openai
    model: gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
  canary:
    via: direct
    provider: mistral
    model: mistral-small-latest
    price: { input: 0.1, output: 0.3 }
    context_tokens: 128000
rules:
  - name: canary-rollout
    when: "true"
    split:
      - { route: stable, weight: 80 }
      - { route: canary, weight: 20 }
default: { route: stable }
`;

/** The route that served one request. */
async function armFor(
  server: TestServer,
  extra: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await chat(server, hello({ max_tokens: 2, ...extra }), headers);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(response.headers.get("x-switchyard-rule"), "canary-rollout");
  return response.headers.get("x-switchyard-route")!;
}

/** The arms each key landed on, asked `times` times, in parallel batches. */
async function armsOf(
  keys: string[],
  ask: (key: string) => Promise<string>,
  times = 1,
): Promise<Map<string, Set<string>>> {
  const arms = new Map<string, Set<string>>(keys.map((k) => [k, new Set()]));
  const jobs = keys.flatMap((key) => Array.from({ length: times }, () => key));
  for (let i = 0; i < jobs.length; i += 25) {
    await Promise.all(jobs.slice(i, i + 25).map(async (key) => arms.get(key)!.add(await ask(key))));
  }
  return arms;
}

/** The distinct arms chosen across keys (each key's single arm). */
const armsInUse = (arms: Map<string, Set<string>>) =>
  [...new Set([...arms.values()].flatMap((s) => [...s]))].sort();

Deno.test("split: the same user always lands on the same arm", async () => {
  await using server = await startTestServer({ policy: SPLIT_POLICY });
  const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
  const arms = await armsOf(users, (user) => armFor(server, { user }), 4);
  for (const [user, seen] of arms) assert.equal(seen.size, 1, `${user} saw ${[...seen]}`);
  assert.deepEqual(armsInUse(arms), ["canary", "stable"], "both arms are in use");
});

Deno.test("split: a session header pins the arm when there is no user, and the user wins over it", async () => {
  await using server = await startTestServer({ policy: SPLIT_POLICY });
  const sessions = Array.from({ length: 20 }, (_, i) => `session-${i}`);
  const arms = await armsOf(
    sessions,
    (session) => armFor(server, {}, { "x-switchyard-session": session }),
    4,
  );
  for (const [session, seen] of arms) assert.equal(seen.size, 1, `${session} saw ${[...seen]}`);
  assert.deepEqual(armsInUse(arms), ["canary", "stable"], "both arms are in use");

  // With a user, the session no longer matters.
  const byUser = await armsOf(
    sessions,
    (session) => armFor(server, { user: "one-user" }, { "x-switchyard-session": session }),
  );
  assert.equal(armsInUse(byUser).length, 1);

  // Without either, a client's request id is the key.
  const ids = await armsOf(
    ["req-a", "req-b", "req-c"],
    (id) => armFor(server, {}, { "x-request-id": id }),
    3,
  );
  for (const [id, seen] of ids) assert.equal(seen.size, 1, `${id} saw ${[...seen]}`);
});

Deno.test("split: across 400 users the traffic follows the weights", async () => {
  await using server = await startTestServer({ policy: SPLIT_POLICY });
  const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  const arms = await armsOf(users, (user) => armFor(server, { user }));
  const canary = [...arms.values()].filter((s) => s.has("canary")).length;
  // 20% of 400 is 80, with a standard deviation of 8 for a fair hash: allow 4 of them. The hash
  // is fixed, so the count is the same on every run.
  assert.ok(canary >= 48 && canary <= 112, `canary got ${canary} of 400`);
});

/**
 * The SIGKILL test both stores run: a child records spends and prints each one after `settle`
 * resolves; the parent kills it with SIGKILL mid-way, reopens the store, and finds every printed
 * spend.
 */
import assert from "node:assert/strict";
import type { SpendStore } from "../../src/budget/store.ts";

const FIXTURE = new URL("./fixtures/record_spends.ts", import.meta.url).pathname;

/**
 * Runs the child until it printed `atLeast` spends, kills it, and checks the store. `args`: the
 * store spec, then the fixture's optional arguments (a Redis namespace, journal compaction size).
 */
export async function killMidwayAndCheck(
  args: string[],
  reopen: () => Promise<SpendStore>,
  atLeast = 40,
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-kv",
      "--allow-read",
      "--allow-write",
      "--allow-net=127.0.0.1,localhost",
      "--allow-env",
      FIXTURE,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const printed: { route: string; nano: number }[] = [];
  let buffer = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const readSome = async () => {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      const [, route, nano] = line.split(" ");
      printed.push({ route, nano: Number(nano) });
    }
    return true;
  };
  try {
    while (printed.length < atLeast && await readSome());
    child.kill("SIGKILL");
    // Lines the child printed before it died are still in the pipe: a fast store gets well ahead
    // of the reader. Every one of them is a settle that resolved.
    while (await readSome());
  } finally {
    await reader.cancel().catch(() => {});
  }
  const status = await child.status;
  const stderr = await new Response(child.stderr).text();
  assert.ok(printed.length >= atLeast, `the child printed ${printed.length} spends: ${stderr}`);
  assert.equal(status.signal, "SIGKILL", "killed mid-way, not finished");

  const store = await reopen();
  try {
    const now = new Date();
    for (const { route, nano } of printed) {
      const level = await store.spent("route", route, "day", now);
      assert.equal(level.settledNano, nano, `spend on ${route} survived SIGKILL`);
    }
    const key = await store.spent("key", "k-durable", "day", now);
    const sum = printed.reduce((s, p) => s + p.nano, 0);
    // At most one more spend settled between the last line and the kill.
    assert.ok(key.settledNano >= sum && key.settledNano <= sum + 1_000 + printed.length);
  } finally {
    await store.close();
  }
}

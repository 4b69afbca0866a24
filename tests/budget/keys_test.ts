import assert from "node:assert/strict";
import {
  callerFacts,
  createKeyRing,
  hashApiKey,
  mintApiKey,
  timingSafeEqual,
} from "../../src/budget/keys.ts";
import { loadKeys, parseKeys } from "../../src/budget/load.ts";
import { UsageError } from "../../src/cli/exit.ts";
import { keys } from "../../src/cli/keys.ts";

Deno.test("hashApiKey() is the hex SHA-256 of the key", async () => {
  assert.equal(
    await hashApiKey("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("mintApiKey() makes distinct sy- keys with 256 random bits", () => {
  const minted = new Set(Array.from({ length: 100 }, mintApiKey));
  assert.equal(minted.size, 100);
  for (const key of minted) assert.match(key, /^sy-[A-Za-z0-9_-]{43}$/);
});

Deno.test("timingSafeEqual() compares whole byte strings", () => {
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
  assert.equal(timingSafeEqual(new Uint8Array(), new Uint8Array()), true);
});

Deno.test("a key ring finds the key a client presents, and nothing for any other", async () => {
  const ring = createKeyRing((await loadKeys("tests/budget/fixtures/keys.yaml")).keys);
  assert.equal((await ring.verify("sy-test-alice"))?.id, "k-alice");
  assert.equal(ring.enabled, true);
  assert.equal(createKeyRing([]).enabled, false);
  assert.equal((await ring.authenticate("sy-test-bob"))?.team?.id, "research");
  assert.equal(await ring.verify("sy-test-alice "), undefined);
  assert.equal(await ring.verify(""), undefined);
  const alice = await ring.verify("sy-test-alice");
  assert.deepEqual(callerFacts(alice!), {
    key: { id: "k-alice", name: "Alice's laptop" },
    team: { id: "research", name: "Research" },
    tags: ["code"],
  });
});

Deno.test("keys mint prints a key once and an entry that loads and verifies", async () => {
  let out = "";
  const code = await keys(
    [
      "mint",
      "--id",
      "k-ci",
      "--name",
      "CI: nightly",
      "--team",
      "platform:Platform Eng",
      "--tag",
      "Batch",
    ],
    (text) => out += text,
  );
  assert.equal(code, 0);
  const key = out.match(/^sy-\S+$/m)?.[0];
  assert.ok(key, out);
  const entry = out.slice(out.indexOf("  - id:"));
  const { keys: loaded } = parseKeys(`keys:\n${entry}\n`, "minted.yaml");
  assert.deepEqual(
    { ...loaded[0], sha256: "…" },
    {
      id: "k-ci",
      name: "CI: nightly",
      team: { id: "platform", name: "Platform Eng" },
      tags: ["batch"],
      sha256: "…",
    },
  );
  assert.equal((await createKeyRing(loaded).verify(key))?.id, "k-ci");
  assert.ok(!entry.includes(key), "the entry holds no plaintext");
});

Deno.test("keys mint names the flags that are missing or wrong", async () => {
  await assert.rejects(
    keys(["mint", "--name", "x"], () => {}),
    (e) => e instanceof UsageError && e.message === "--id is required",
  );
  await assert.rejects(keys(["mint", "--id", "no spaces", "--name", "x"], () => {}), UsageError);
});

Deno.test("keys hash prints the hash of a key read from input", async () => {
  let out = "";
  const input = () => ReadableStream.from([new TextEncoder().encode("abc\n")]);
  assert.equal(await keys(["hash"], (text) => out += text, input), 0);
  assert.equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

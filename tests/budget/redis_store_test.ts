/**
 * The Redis store against a real redis-server: `.ci/redis.sh` starts one and prints REDIS_URL.
 * Skipped (ignored) only when REDIS_URL is unset; CI always sets it.
 */
import { createClient } from "redis";
import { openRedisStore } from "../../src/budget/redis_store.ts";
import { killMidwayAndCheck } from "./durability.ts";
import { storeConformance } from "./store_suite.ts";

const REDIS_URL = Deno.env.get("REDIS_URL");

/** Deletes every key of a test namespace. */
async function dropNamespace(namespace: string): Promise<void> {
  const client = await createClient({ url: REDIS_URL }).connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `{${namespace}}:*`, COUNT: 500 })) {
      if (keys.length) await client.del(keys);
    }
  } finally {
    await client.close();
  }
}

storeConformance("redis store", () => {
  const namespace = `test-${crypto.randomUUID()}`;
  return {
    open: (options) => openRedisStore(REDIS_URL!, { ...options, namespace }),
    cleanup: () => dropNamespace(namespace),
  };
}, REDIS_URL === undefined);

Deno.test({
  name: "redis store: every spend printed after settle survives a SIGKILL of the instance",
  ignore: REDIS_URL === undefined,
  async fn() {
    const namespace = `test-${crypto.randomUUID()}`;
    try {
      await killMidwayAndCheck(
        [REDIS_URL!, namespace],
        () => openRedisStore(REDIS_URL!, { namespace }),
      );
    } finally {
      await dropNamespace(namespace);
    }
  },
});

Deno.test({
  name: "redis store: scripts flushed from the server are sent again",
  ignore: REDIS_URL === undefined,
  async fn() {
    const namespace = `test-${crypto.randomUUID()}`;
    const admin = await createClient({ url: REDIS_URL }).connect();
    try {
      await using store = await openRedisStore(REDIS_URL!, { namespace });
      await admin.scriptFlush();
      const now = new Date();
      const outcome = await store.reserve([{ dimension: "tag", id: "eu", window: "day" }], 5, now);
      if (!outcome.ok) throw new Error("blocked without a limit");
      await store.settle(outcome.reservation, 4, { tags: ["eu"], route: "r", via: "direct" }, now);
      const level = await store.spent("tag", "eu", "day", now);
      if (level.settledNano !== 4 || level.heldNano !== 0) throw new Error(JSON.stringify(level));
    } finally {
      await admin.close();
      await dropNamespace(namespace);
    }
  },
});

import { openKvStore } from "../../src/budget/kv_store.ts";
import { killMidwayAndCheck } from "./durability.ts";
import { storeConformance } from "./store_suite.ts";

storeConformance("kv store", () => {
  const dir = Deno.makeTempDirSync({ prefix: "switchyard-kv-" });
  return {
    open: (options) => openKvStore(`${dir}/spend.kv`, options),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

Deno.test("kv store: every spend printed after settle survives a SIGKILL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-kv-" });
  try {
    const path = `${dir}/spend.kv`;
    await killMidwayAndCheck([`kv:${path}`], () => openKvStore(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

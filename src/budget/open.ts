/**
 * Opening the configured spend store from one string, so the server, `deno task spend` and the
 * tests name stores the same way:
 * - `kv:<path>`: Deno KV on a local file (embedded; needs `--unstable-kv`);
 * - `redis://host:port[/db]` or `rediss://…`: Redis, shared by several instances.
 */
import { openKvStore } from "./kv_store.ts";
import { openRedisStore } from "./redis_store.ts";
import type { SpendStore } from "./store.ts";

/** The store when none is configured: a KV file beside the policies, created on first use. */
export const DEFAULT_STORE = "kv:.switchyard/spend.kv";

/** Options shared by every kind of store. */
export interface OpenStoreOptions {
  /** How long an unsettled reservation is held (default 15 minutes). */
  leaseMs?: number;
  /** Redis only: key prefix (default `switchyard`). */
  namespace?: string;
  /** Redis only: connection errors after the first connect (the client reconnects). */
  onError?: (error: Error) => void;
}

/** Opens the store a spec names; throws `RangeError` for a spec that names no store. */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<SpendStore> {
  if (spec.startsWith("kv:")) {
    const path = spec.slice(3);
    if (!path) throw new RangeError("A KV store needs a path: kv:<path>");
    if (path !== ":memory:") await ensureParent(path);
    return await openKvStore(path, options);
  }
  if (spec.startsWith("redis://") || spec.startsWith("rediss://")) {
    return await openRedisStore(spec, options);
  }
  throw new RangeError(`Unknown store \`${spec}\`: use kv:<path> or redis://host:port`);
}

async function ensureParent(path: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
}

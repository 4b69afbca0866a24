/**
 * Opening the configured spend store from one string, so the server, `deno task spend` and the
 * tests name stores the same way:
 * - `journal:<path>`: in memory, made durable by an append-only journal file (embedded, one
 *   process; the default);
 * - `kv:<path>`: Deno KV on a local file (embedded; several processes on one host; needs
 *   `--unstable-kv`);
 * - `redis://host:port[/db]` or `rediss://…`: Redis, shared by several instances.
 */
import type { SpendStore } from "./store.ts";

/** The store when none is configured: a journal beside the policies, created on first use. */
export const DEFAULT_STORE = "journal:.switchyard/spend.journal";

/** Options shared by every kind of store. */
export interface OpenStoreOptions {
  /** How long an unsettled reservation is held (default 15 minutes). */
  leaseMs?: number;
  /** Redis only: key prefix (default `switchyard`). */
  namespace?: string;
  /**
   * Problems after opening: Redis connection errors (the client reconnects), journal sync
   * failures and torn journal lines skipped (journal default: printed to stderr).
   */
  onError?: (error: Error) => void;
  /** Journal only: background `fdatasync` interval in ms (default 1000; 0: every mutation). */
  fsyncMs?: number;
  /** Journal only: compact past this many bytes (default 64 MiB). */
  compactBytes?: number;
  /**
   * Only reads will follow (`deno task spend`): a journal is replayed without its lock, so it can
   * be read while a server holds it. Other stores are shared anyway and ignore it.
   */
  readOnly?: boolean;
}

/** Opens the store a spec names; throws `RangeError` for a spec that names no store. */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<SpendStore> {
  if (spec.startsWith("journal:")) {
    const path = spec.slice("journal:".length);
    if (!path) throw new RangeError("A journal store needs a path: journal:<path>");
    if (!options.readOnly) await ensureParent(path);
    // Each store is loaded only when named: the Redis client alone is megabytes of code and heap.
    const { openJournalStore } = await import("./journal_store.ts");
    return await openJournalStore(path, options);
  }
  if (spec.startsWith("kv:")) {
    const path = spec.slice(3);
    if (!path) throw new RangeError("A KV store needs a path: kv:<path>");
    if (path !== ":memory:") await ensureParent(path);
    const { openKvStore } = await import("./kv_store.ts");
    return await openKvStore(path, options);
  }
  if (spec.startsWith("redis://") || spec.startsWith("rediss://")) {
    const { openRedisStore } = await import("./redis_store.ts");
    return await openRedisStore(spec, options);
  }
  throw new RangeError(
    `Unknown store \`${spec}\`: use journal:<path>, kv:<path> or redis://host:port`,
  );
}

async function ensureParent(path: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
}

/**
 * The embedded spend store: Deno KV on a local file (needs `--unstable-kv`). Durable (a committed
 * atomic operation is in the SQLite write-ahead log before `commit()` resolves, so a process killed
 * right after `settle` resolves keeps the spend), atomic (versionstamp checks and `sum` mutations
 * in one transaction), and zero setup. Several handles on the same file (instances on one host)
 * enforce one budget: conflicting commits fail their checks and retry with fresh reads.
 *
 * Keys, all under `["switchyard"]`: `settled|held|requests, window, period, dimension, id` hold
 * KvU64 counters; `lease, id` a reservation; `lease_expiry, expiresAt, id` its expiry index;
 * `settled_id, id` the marker that makes settling idempotent (kept for `SETTLED_MEMORY_MS`).
 */
import {
  assertNano,
  type Attribution,
  attributionCounters,
  counterAt,
  type CounterCheck,
  type CounterRef,
  DEFAULT_LEASE_MS,
  type Dimension,
  isSpent,
  type Level,
  newReservation,
  type Reservation,
  type ReserveOutcome,
  SETTLED_MEMORY_MS,
  type SpendReport,
  spendReport,
  type SpendRow,
  type SpendStore,
  SpendStoreError,
} from "./store.ts";
import { windowAt, type WindowKind } from "./windows.ts";

const ROOT = "switchyard";
/** Deno KV allows at most 10 keys per `getMany` and 100 checks per atomic operation. */
const GET_MANY_MAX = 10;
const MAX_CHECKED_COUNTERS = 90;
const MAX_ATTEMPTS = 100;
/** Expired leases are looked for at most this often per handle. */
const RECLAIM_EVERY_MS = 1_000;
const U64 = 1n << 64n;

type Counter = "settled" | "held" | "requests";
const key = (kind: Counter, c: CounterRef): Deno.KvKey => [
  ROOT,
  kind,
  c.window,
  c.period,
  c.dimension,
  c.id,
];
const leaseKey = (id: string): Deno.KvKey => [ROOT, "lease", id];
const expiryKey = (expiresAt: number, id: string): Deno.KvKey => [
  ROOT,
  "lease_expiry",
  expiresAt,
  id,
];
const settledIdKey = (id: string): Deno.KvKey => [ROOT, "settled_id", id];

/** Adding this to a KvU64 subtracts `nano` (sums wrap modulo 2^64, and held never goes below 0). */
const minus = (nano: number) => (U64 - BigInt(nano)) % U64;
const plus = (nano: number) => BigInt(nano);
const amount = (entry: Deno.KvEntryMaybe<unknown>): number =>
  entry.value instanceof Deno.KvU64 ? Number(entry.value.value) : 0;

interface StoredLease {
  estimateNano: number;
  counters: readonly CounterRef[];
  expiresAt: number;
}

/** Options for the KV store. */
export interface KvStoreOptions {
  /** How long an unsettled reservation is held before it is reclaimed (default 15 minutes). */
  leaseMs?: number;
}

/** Opens (creating when missing) a KV spend store at `path`; `":memory:"` for tests. */
export async function openKvStore(path: string, options: KvStoreOptions = {}): Promise<SpendStore> {
  if (typeof Deno.openKv !== "function") {
    throw new SpendStoreError("Deno KV is not enabled: run Deno with --unstable-kv");
  }
  return new KvSpendStore(await Deno.openKv(path), options.leaseMs ?? DEFAULT_LEASE_MS);
}

class KvSpendStore implements SpendStore {
  readonly #kv: Deno.Kv;
  readonly #leaseMs: number;
  /** Operations of one handle run one at a time, so they never conflict with each other. */
  #tail: Promise<unknown> = Promise.resolve();
  #lastReclaim = -Infinity;
  #closed = false;

  constructor(kv: Deno.Kv, leaseMs: number) {
    this.#kv = kv;
    this.#leaseMs = leaseMs;
  }

  reserve(
    checks: readonly CounterCheck[],
    estimateNano: number,
    now: Date,
  ): Promise<ReserveOutcome> {
    const granted = newReservation(checks, estimateNano, now, this.#leaseMs);
    if (checks.length > MAX_CHECKED_COUNTERS) {
      throw new RangeError(`At most ${MAX_CHECKED_COUNTERS} budget counters apply to a request`);
    }
    const counters = granted.counters;
    if (counters.length === 0) {
      return Promise.resolve({ ok: true, reservation: granted, levels: [] });
    }
    return this.#serial(async () => {
      await this.#reclaimExpired(now);
      return await this.#retry(async () => {
        const { levels, held } = await this.#read(counters);
        const blocked = checks.flatMap((check, i) =>
          isSpent(levels[i], check.limitNano) ? [i] : []
        );
        if (blocked.length > 0) return { ok: false, levels, blocked } as const;
        // A commit that failed wrote nothing, so a retry may reuse the reservation's id.
        // Checking the held counters is enough: a settle that moved spend from held to settled
        // after our read changed a held versionstamp, and a settle that only adds to settled (its
        // lease was reclaimed) is a blind sum that may serialize after this reservation.
        const op = this.#kv.atomic();
        for (const entry of held) op.check(entry);
        for (const c of counters) op.sum(key("held", c), plus(estimateNano));
        const lease: StoredLease = { estimateNano, counters, expiresAt: granted.expiresAt };
        op.set(leaseKey(granted.id), lease);
        op.set(expiryKey(granted.expiresAt, granted.id), true);
        if (!(await op.commit()).ok) return undefined;
        return { ok: true, reservation: granted, levels } as const;
      });
    });
  }

  settle(
    reservation: Reservation,
    actualNano: number,
    attribution: Attribution,
    now: Date,
  ): Promise<boolean> {
    assertNano(actualNano, "The actual cost");
    const counters = attributionCounters(attribution, now);
    return this.#serial(() =>
      this.#retry(async () => {
        const [marker, lease] = await this.#kv.getMany<[unknown, StoredLease]>([
          settledIdKey(reservation.id),
          leaseKey(reservation.id),
        ]);
        if (marker.versionstamp !== null) return false;
        const op = this.#kv.atomic().check(marker).check(lease);
        if (lease.value) this.#dropLease(op, reservation.id, lease.value);
        for (const c of counters) {
          op.sum(key("settled", c), plus(actualNano));
          op.sum(key("requests", c), plus(1));
        }
        op.set(settledIdKey(reservation.id), { nano: actualNano, at: now.toISOString() }, {
          expireIn: SETTLED_MEMORY_MS,
        });
        return (await op.commit()).ok ? true : undefined;
      })
    );
  }

  release(reservation: Reservation): Promise<void> {
    if (reservation.counters.length === 0) return Promise.resolve();
    return this.#serial(() =>
      this.#retry(async () => {
        const lease = await this.#kv.get<StoredLease>(leaseKey(reservation.id));
        if (!lease.value) return true;
        const op = this.#kv.atomic().check(lease);
        this.#dropLease(op, reservation.id, lease.value);
        return (await op.commit()).ok ? true : undefined;
      })
    ).then(() => undefined);
  }

  async spent(dimension: Dimension, id: string, window: WindowKind, now: Date): Promise<Level> {
    const c: CounterRef = { dimension, id, window, period: windowAt(window, now).period };
    const [settled, held] = await this.#kv.getMany([key("settled", c), key("held", c)]);
    return { settledNano: amount(settled), heldNano: amount(held) };
  }

  async levels(checks: readonly CounterCheck[], now: Date): Promise<Level[]> {
    return (await this.#read(checks.map((check) => counterAt(check, now)))).levels;
  }

  async report(kind: WindowKind, now: Date): Promise<SpendReport> {
    const window = windowAt(kind, now);
    const rows = new Map<string, SpendRow>();
    for (const counter of ["settled", "held", "requests"] as const) {
      const prefix = [ROOT, counter, kind, window.period];
      for await (const entry of this.#kv.list({ prefix })) {
        const [dimension, id] = entry.key.slice(prefix.length) as [Dimension, string];
        const rowKey = `${dimension}\u0000${id}`;
        let row = rows.get(rowKey);
        if (!row) {
          row = { dimension, id, settledNano: 0, heldNano: 0, requests: 0 };
          rows.set(rowKey, row);
        }
        const value = amount(entry);
        if (counter === "settled") row.settledNano = value;
        else if (counter === "held") row.heldNano = value;
        else row.requests = value;
      }
    }
    return spendReport(window, [...rows.values()]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail.catch(() => {});
    this.#kv.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #dropLease(op: Deno.AtomicOperation, id: string, lease: StoredLease): void {
    if (lease.estimateNano > 0) {
      for (const c of lease.counters) op.sum(key("held", c), minus(lease.estimateNano));
    }
    op.delete(leaseKey(id));
    op.delete(expiryKey(lease.expiresAt, id));
  }

  /** Gives back what reservations of crashed or stuck requests hold, once their lease expired. */
  async #reclaimExpired(now: Date): Promise<void> {
    const time = now.getTime();
    if (Math.abs(time - this.#lastReclaim) < RECLAIM_EVERY_MS) return;
    this.#lastReclaim = time;
    const expired = this.#kv.list<true>(
      { prefix: [ROOT, "lease_expiry"], end: [ROOT, "lease_expiry", time + 1] },
      { limit: 64 },
    );
    for await (const index of expired) {
      const id = index.key[3] as string;
      const lease = await this.#kv.get<StoredLease>(leaseKey(id));
      const op = this.#kv.atomic().check(lease);
      if (lease.value) this.#dropLease(op, id, lease.value);
      else op.delete(index.key);
      // A conflict means another handle is settling or reclaiming it: nothing left to do here.
      await op.commit();
    }
  }

  /**
   * Reads counters' settled and held amounts. A counter's two amounts come from one `getMany`
   * (one snapshot): a settle moves spend from held to settled, and reading the two at different
   * moments could miss it in both.
   */
  async #read(
    counters: readonly CounterRef[],
  ): Promise<{ levels: Level[]; held: Deno.KvEntryMaybe<unknown>[] }> {
    const levels: Level[] = [];
    const held: Deno.KvEntryMaybe<unknown>[] = [];
    const perRead = GET_MANY_MAX / 2;
    for (let i = 0; i < counters.length; i += perRead) {
      const chunk = counters.slice(i, i + perRead);
      const entries = await this.#kv.getMany(
        chunk.flatMap((c) => [key("settled", c), key("held", c)]),
      );
      for (let j = 0; j < chunk.length; j++) {
        levels.push({ settledNano: amount(entries[2 * j]), heldNano: amount(entries[2 * j + 1]) });
        held.push(entries[2 * j + 1]);
      }
    }
    return { levels, held };
  }

  /** Runs an optimistic transaction until it commits (it returns `undefined` on a conflict). */
  async #retry<T>(attempt: () => Promise<T | undefined>): Promise<T> {
    for (let n = 0; n < MAX_ATTEMPTS; n++) {
      let result: T | undefined;
      try {
        result = await attempt();
      } catch (error) {
        // Another process or handle holds SQLite's write lock right now: same as a conflict.
        if (!(error instanceof Error) || !error.message.includes("database is locked")) throw error;
      }
      if (result !== undefined) return result;
      // Another handle on the same file won the race; back off a little, with jitter.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** n, 50)));
    }
    throw new SpendStoreError(`Deno KV stayed contended for ${MAX_ATTEMPTS} attempts`);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => {});
    return run;
  }
}

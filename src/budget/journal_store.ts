/**
 * The embedded spend store: state in memory, made durable by an append-only journal file (the
 * default, `journal:<path>`). Reserve, settle, levels and reports are in-memory operations that
 * take microseconds; each mutation appends one JSON line with one synchronous write before it
 * resolves (see journal_file.ts), and the journal is compacted into a snapshot as it grows.
 *
 * Durability: when `reserve`, `settle` or `release` resolves, its line has been written to the
 * journal file (it is in the kernel's page cache), so a crash or SIGKILL of the process loses
 * nothing. A crash of the machine (power loss, kernel panic) can lose what resolved in the last
 * `fsyncMs` (default 1000 ms) plus the time a sync takes, as the journal is `fdatasync`ed in the
 * background; with `fsyncMs: 0` every mutation is synced before it resolves, and a machine crash
 * loses nothing either (at the cost of a sync per mutation, ~0.3–1 ms on an SSD).
 *
 * One process: the journal is locked while open, and a second process fails to open it (share a
 * Redis store between instances). Handles opened on the same file in one process share one state
 * (with the fsync, compaction and memory options of the first). Read-only handles (`deno task
 * spend`) replay the journal without the lock, so they work while a server holds it.
 *
 * Settled reservation ids are remembered, so settling twice counts once, for `SETTLED_MEMORY_MS`
 * or the last `settledMemory` ids (default 10,000, about 1 MB), whichever is fewer; a duplicate
 * settle later than that counts again. Counters are dropped once their window ended more than
 * `RETENTION_MS` before the latest time the store was given.
 */
import { basename, dirname, resolve } from "node:path";
import { Journal, type JournalOptions } from "./journal.ts";
import { attributionRecord, toTuple } from "./journal_records.ts";
import {
  assertNano,
  type Attribution,
  counterAt,
  type CounterCheck,
  DEFAULT_LEASE_MS,
  type Dimension,
  isSpent,
  type Level,
  newReservation,
  type Reservation,
  type ReserveOutcome,
  type SpendReport,
  spendReport,
  type SpendStore,
  SpendStoreError,
} from "./store.ts";
import { periodAt, windowAt, type WindowKind } from "./windows.ts";

/** Default interval of the background `fdatasync` (ms). */
export const DEFAULT_FSYNC_MS = 1_000;
/** Default journal size past which it is compacted (bytes). */
export const DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024;
/**
 * Default number of settled reservation ids remembered for idempotency. The server settles each
 * reservation once; this only guards a retried call, so it covers seconds to minutes of traffic.
 */
export const DEFAULT_SETTLED_MEMORY = 10_000;

/** Options for the journal store. */
export interface JournalStoreOptions {
  /** How long an unsettled reservation is held before it is reclaimed (default 15 minutes). */
  leaseMs?: number;
  /** Background `fdatasync` interval (ms, default 1000); 0 syncs every mutation before it resolves. */
  fsyncMs?: number;
  /** Compact once the journal passes this size (bytes, default 64 MiB) and twice its snapshot. */
  compactBytes?: number;
  /** Settled ids remembered at most, so a duplicate settle is a no-op (default 100,000). */
  settledMemory?: number;
  /** Replay without locking and refuse mutations: reading spend while a server holds the journal. */
  readOnly?: boolean;
  /** Problems off the request path: a failed background sync, a torn line skipped (default: stderr). */
  onError?: (error: Error) => void;
}

/** Journals open for writing in this process (or being opened), by absolute path. */
const journals = new Map<string, Promise<Journal>>();
/** Journals being closed: opening one again waits until its lock is released. */
const closing = new Map<string, Promise<void>>();

/**
 * Opens (creating when missing) the journal store at `path`. The first handle on a file in this
 * process decides its fsync, compaction and memory options; later ones share its state.
 */
export async function openJournalStore(
  path: string,
  options: JournalStoreOptions = {},
): Promise<SpendStore> {
  const fsyncMs = options.fsyncMs ?? DEFAULT_FSYNC_MS;
  const compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
  const settledMemory = options.settledMemory ?? DEFAULT_SETTLED_MEMORY;
  if (!Number.isSafeInteger(fsyncMs) || fsyncMs < 0) {
    throw new RangeError(`fsyncMs must be a whole number of milliseconds ≥ 0: ${fsyncMs}`);
  }
  if (!(compactBytes > 0) || !Number.isSafeInteger(settledMemory) || settledMemory < 1) {
    throw new RangeError("compactBytes and settledMemory must be positive");
  }
  const journalOptions: JournalOptions = {
    fsyncMs,
    compactBytes,
    settledMemory,
    onError: options.onError ?? ((error) => console.warn(`spend journal: ${error.message}`)),
  };
  const key = absolute(path);
  let journal: Journal;
  do {
    await closing.get(key);
    let opening = journals.get(key);
    if (!opening && options.readOnly) {
      journal = Journal.read(path, journalOptions);
      break;
    }
    if (!opening) {
      // Registered before it settles, so a concurrent open shares it instead of racing the lock.
      const pending = Journal.open(path, journalOptions);
      journals.set(key, pending);
      pending.catch(() => journals.get(key) === pending && journals.delete(key));
      opening = pending;
    }
    journal = await opening;
    // Its last handle may have closed it while this open waited: then open it again.
  } while (journal.closed);
  journal.refs++;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  return new JournalSpendStore(key, journal, leaseMs, options.readOnly ?? false);
}

class JournalSpendStore implements SpendStore {
  readonly #key: string;
  readonly #leaseMs: number;
  readonly #readOnly: boolean;
  #journal: Journal | undefined;

  constructor(key: string, journal: Journal, leaseMs: number, readOnly: boolean) {
    this.#key = key;
    this.#journal = journal;
    this.#leaseMs = leaseMs;
    this.#readOnly = readOnly;
  }

  // Every method below runs synchronously to its end (no `await`), which is what makes a
  // check and the hold or settle it guards one atomic step.

  // deno-lint-ignore require-await
  async reserve(
    checks: readonly CounterCheck[],
    estimateNano: number,
    now: Date,
  ): Promise<ReserveOutcome> {
    const reservation = newReservation(checks, estimateNano, now, this.#leaseMs);
    const journal = this.#writable();
    const counters = reservation.counters;
    const time = now.getTime();
    if (counters.length === 0) return { ok: true, reservation, levels: [] };
    journal.reclaimExpired(time);
    const levels = counters.map((c) => journal.state.level(c));
    const blocked = checks.flatMap((check, i) => isSpent(levels[i], check.limitNano) ? [i] : []);
    if (blocked.length > 0) return { ok: false, levels, blocked };
    journal.commit({
      t: "reserve",
      id: reservation.id,
      e: estimateNano,
      x: reservation.expiresAt,
      c: counters.map(toTuple),
      at: time,
    });
    return { ok: true, reservation, levels };
  }

  // deno-lint-ignore require-await
  async settle(
    reservation: Reservation,
    actualNano: number,
    attribution: Attribution,
    now: Date,
  ): Promise<boolean> {
    assertNano(actualNano, "The actual cost");
    const journal = this.#writable();
    if (journal.state.isSettled(reservation.id)) return false;
    journal.commit({
      t: "settle",
      id: reservation.id,
      n: actualNano,
      at: now.getTime(),
      a: attributionRecord(attribution),
    });
    return true;
  }

  // deno-lint-ignore require-await
  async release(reservation: Reservation): Promise<void> {
    const journal = this.#writable();
    if (journal.state.hasLease(reservation.id)) {
      journal.commit({ t: "release", ids: [reservation.id] });
    }
  }

  // deno-lint-ignore require-await
  async spent(dimension: Dimension, id: string, window: WindowKind, now: Date): Promise<Level> {
    const period = periodAt(window, now);
    return this.#readable().state.level({ dimension, id, window, period });
  }

  // deno-lint-ignore require-await
  async levels(checks: readonly CounterCheck[], now: Date): Promise<Level[]> {
    const state = this.#readable().state;
    return checks.map((check) => state.level(counterAt(check, now)));
  }

  // deno-lint-ignore require-await
  async report(kind: WindowKind, now: Date): Promise<SpendReport> {
    const window = windowAt(kind, now);
    return spendReport(window, this.#readable().state.rows(kind, window.period));
  }

  async close(): Promise<void> {
    const journal = this.#journal;
    if (!journal) return;
    this.#journal = undefined;
    if (--journal.refs > 0 || !journal.writable) return;
    journals.delete(this.#key);
    const done = journal.close().finally(() => closing.delete(this.#key));
    closing.set(this.#key, done);
    await done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #readable(): Journal {
    if (!this.#journal) throw new SpendStoreError("This spend store is closed");
    return this.#journal;
  }

  #writable(): Journal {
    const journal = this.#readable();
    if (this.#readOnly) throw new SpendStoreError("This spend store was opened read-only");
    return journal;
  }
}

/** The journal's absolute path, its directory resolved through symbolic links when it exists. */
function absolute(path: string): string {
  const full = resolve(path);
  try {
    return `${Deno.realPathSync(dirname(full))}/${basename(full)}`;
  } catch {
    return full;
  }
}

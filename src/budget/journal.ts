/**
 * One open spend journal: the in-memory state (journal_state.ts) and the file that makes it
 * durable (journal_file.ts), kept in step by `commit`, which appends a mutation's line and only
 * then applies it. Everything between a check and its commit is synchronous, so within the one
 * process that holds the journal, reserve and settle are atomic by construction.
 *
 * A process opens each journal once: handles on the same file share one `Journal` (see
 * journal_store.ts), because two writers would interleave their lines and diverge.
 */
import { JournalWriter, type JournalWriterOptions } from "./journal_file.ts";
import { lockJournal } from "./journal_lock.ts";
import { formatRecord, type JournalRecord } from "./journal_records.ts";
import { replayJournal } from "./journal_replay.ts";
import { SpendState } from "./journal_state.ts";
import { SpendStoreError } from "./store.ts";

/** Expired leases are looked for at most this often. */
const RECLAIM_EVERY_MS = 1_000;

/** How a journal is opened. */
export interface JournalOptions extends JournalWriterOptions {
  /** Compact once the journal is this large and twice its last snapshot (bytes). */
  compactBytes: number;
  /** How many settled reservation ids are remembered at most. */
  settledMemory: number;
}

/** A journal's state and, unless it was opened read-only, its writer. */
export class Journal {
  readonly state: SpendState;
  /** Handles sharing this journal. */
  refs = 0;
  readonly #writer: JournalWriter | undefined;
  readonly #options: JournalOptions;
  #compactAt: number;
  #compaction: Promise<void> | undefined;
  #lastReclaim = -Infinity;
  #closed = false;

  private constructor(
    state: SpendState,
    writer: JournalWriter | undefined,
    options: JournalOptions,
  ) {
    this.state = state;
    this.#writer = writer;
    this.#options = options;
    this.#compactAt = Math.max(options.compactBytes, 2 * (writer?.snapshotBytes ?? 0));
  }

  /**
   * Locks, replays and opens a journal for writing. A torn last line is reported, skipped and cut
   * off; a journal with anything after its snapshot (or a new one) is compacted right away, so
   * every run starts from a snapshot and the next restart replays little.
   */
  static async open(path: string, options: JournalOptions): Promise<Journal> {
    const lock = lockJournal(path);
    let writer: JournalWriter | undefined;
    try {
      const state = new SpendState(options.settledMemory);
      const replay = replayJournal(path, (record) => state.apply(record));
      if (replay.tornBytes > 0) {
        options.onError(
          new Error(
            `${path}: skipped a torn last line (${replay.tornBytes} bytes, an interrupted ` +
              "write) and cut it off",
          ),
        );
      }
      writer = new JournalWriter(path, lock, replay, options);
      const journal = new Journal(state, writer, options);
      if (replay.lines === 0 || replay.lines > replay.snapshotLines) await journal.#compact();
      return journal;
    } catch (error) {
      if (writer) writer.abandon();
      else lock.close();
      throw error;
    }
  }

  /**
   * Replays a journal without locking it, for reading while another process writes: a torn last
   * line is that writer's line in progress and is skipped. The state is the journal's when read.
   */
  static read(path: string, options: JournalOptions): Journal {
    const state = new SpendState(options.settledMemory);
    replayJournal(path, (record) => state.apply(record));
    return new Journal(state, undefined, options);
  }

  /** True when the journal was opened for writing (not read-only). */
  get writable(): boolean {
    return this.#writer !== undefined;
  }

  /** Appends a mutation's line, then applies it: a mutation that returned is in the journal. */
  commit(record: JournalRecord): void {
    if (!this.#writer) throw new SpendStoreError("This spend store was opened read-only");
    this.#writer.append(formatRecord(record));
    this.state.apply(record);
    if (this.#writer.size >= this.#compactAt && !this.#compaction) {
      this.#compaction = this.#compact().catch((error) => {
        this.#options.onError(error instanceof Error ? error : new Error(String(error)));
        // Appends went on to the old journal (still complete): try again after more growth.
        this.#compactAt = this.#writer!.size + this.#options.compactBytes / 8;
      }).finally(() => this.#compaction = undefined);
    }
  }

  /** Gives back what expired leases hold, at most once a second (of the callers' clock). */
  reclaimExpired(time: number): void {
    if (Math.abs(time - this.#lastReclaim) < RECLAIM_EVERY_MS) return;
    this.#lastReclaim = time;
    const ids = this.state.expiredLeases(time);
    if (ids.length > 0) this.commit({ t: "reclaim", ids });
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the file and releases the lock, after a compaction under way and a final sync. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#compaction;
    await this.#writer?.close();
  }

  /** Prunes the state and replaces the journal by its snapshot. */
  async #compact(): Promise<void> {
    const writer = this.#writer!;
    this.state.prune();
    await writer.rewrite(this.state.snapshot());
    // Twice the snapshot at least: compaction work stays proportional to what was appended.
    this.#compactAt = Math.max(this.#options.compactBytes, 2 * writer.snapshotBytes);
  }
}

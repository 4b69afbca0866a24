/**
 * The spend journal on disk: the writer that appends mutations and compacts, in the one process
 * that holds the journal's lock (journal_lock.ts); journal_replay.ts reads it back.
 *
 * - Appends are one synchronous `write(2)` loop per line on a file opened with `O_APPEND`, so when
 *   `append` returns the line is in the kernel: a SIGKILL of the process cannot lose it. Power
 *   loss can lose what was not yet synced: the writer `fdatasync`s every `fsyncMs` off the request
 *   path (or after every line when `fsyncMs` is 0).
 * - A failed write is cut back off the file, so a later line never continues a torn one.
 * - Compaction writes the snapshot to `<path>.compact`, syncs it, renames it over the journal (an
 *   atomic replace) and syncs the directory. A crash at any point leaves the old journal or the
 *   new one, each complete; a leftover `.compact` file is ignored and removed on the next open.
 *   Appends go on meanwhile: the snapshot is written a piece at a time between requests, and the
 *   lines appended in the meantime are carried over to the new file just before the rename.
 */
import { dirname } from "node:path";
import type { Replay } from "./journal_replay.ts";
import { SpendStoreError } from "./store.ts";

const BUFFER_BYTES = 64 * 1024;

/** How the writer syncs and reports. */
export interface JournalWriterOptions {
  /** `fdatasync` at most this often (ms), off the request path; 0: after every line. */
  fsyncMs: number;
  /** Failures that happen off the request path (a periodic sync, a sync at close). */
  onError: (error: Error) => void;
}

/** Appends lines to a journal whose lock this process holds, and replaces it on compaction. */
export class JournalWriter {
  readonly #path: string;
  readonly #lock: Deno.FsFile;
  readonly #options: JournalWriterOptions;
  readonly #encoder = new TextEncoder();
  /** Reused for every line that fits (nearly all): no allocation per append. */
  readonly #buffer = new Uint8Array(BUFFER_BYTES);
  #file: Deno.FsFile;
  #size: number;
  #snapshotBytes: number;
  #dirty = false;
  #syncing: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #failure: Error | undefined;
  /** While a compaction runs: the lines appended since it started, to carry over. */
  #carried: string[] | undefined;

  /** Opens `path` for appending (creating it empty when missing); takes ownership of `lock`. */
  constructor(path: string, lock: Deno.FsFile, replay: Replay, options: JournalWriterOptions) {
    this.#path = path;
    this.#lock = lock;
    this.#options = options;
    removeIfPresent(`${path}.compact`);
    if (replay.tornBytes > 0) Deno.truncateSync(path, replay.bytes);
    this.#file = Deno.openSync(path, { append: true, create: true });
    this.#size = replay.bytes;
    this.#snapshotBytes = replay.bytes;
    if (options.fsyncMs > 0) {
      const timer = setInterval(() => this.#syncInBackground(), options.fsyncMs);
      // The journal alone must not keep a process alive.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** The journal's size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** The size of the journal right after its last compaction (or when it was opened). */
  get snapshotBytes(): number {
    return this.#snapshotBytes;
  }

  /** Why the journal stopped accepting writes, if it did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Appends one line (newline included); when it returns, the line is in the kernel. */
  append(line: string): void {
    if (this.#failure) throw this.#failed();
    const bytes = this.#encode(line);
    try {
      writeAll(this.#file, bytes);
    } catch (error) {
      this.#cutBack(error);
      throw new SpendStoreError(`Could not append to the spend journal ${this.#path}: ${error}`, {
        cause: error,
      });
    }
    this.#size += bytes.length;
    this.#carried?.push(line);
    if (this.#options.fsyncMs > 0) {
      this.#dirty = true;
      return;
    }
    try {
      this.#file.syncDataSync();
    } catch (error) {
      this.#failure = asError(error);
      throw this.#failed();
    }
  }

  /**
   * Replaces the journal by a snapshot: `pieces` (lines, newlines included, as of the call) are
   * written to `<path>.compact` one at a time, yielding to the event loop between them, and
   * synced. Appends go on to the journal meanwhile and are kept; then, in one synchronous step,
   * they are written after the snapshot and the file is renamed over the journal, and later
   * appends go to it. Last the directory is synced, so the rename survives power loss.
   *
   * Rejects when the journal was not replaced (it is still complete); also when it was but the
   * directory could not be synced (the journal then stops accepting writes, as after a failed
   * `fdatasync`).
   */
  async rewrite(pieces: Iterable<string>): Promise<void> {
    if (this.#failure) throw this.#failed();
    if (this.#carried) throw new Error("A compaction is already under way");
    const temp = `${this.#path}.compact`;
    removeIfPresent(temp);
    const next = Deno.openSync(temp, { append: true, createNew: true });
    const carried: string[] = [];
    this.#carried = carried;
    let snapshotBytes = 0;
    let size = 0;
    try {
      for (const piece of pieces) {
        const bytes = this.#encoder.encode(piece);
        writeAll(next, bytes);
        snapshotBytes += bytes.length;
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.#failure) throw this.#failure;
      }
      size = snapshotBytes;
      let taken = 0;
      const carryOver = () => {
        const bytes = this.#encoder.encode(carried.slice(taken).join(""));
        taken = carried.length;
        writeAll(next, bytes);
        size += bytes.length;
        return bytes.length;
      };
      // Most of what was appended meanwhile is carried over (and synced) while appends go on …
      carryOver();
      await next.syncData();
      // … so that the last, synchronous step only writes the few lines of that sync. Those were
      // synced in the old journal already (fsyncMs 0): they must be in the new one too.
      if (carryOver() > 0 && this.#options.fsyncMs === 0) next.syncDataSync();
      Deno.renameSync(temp, this.#path);
    } catch (error) {
      next.close();
      try {
        removeIfPresent(temp);
      } catch {
        // The next open removes it.
      }
      throw new SpendStoreError(`Could not compact the spend journal ${this.#path}: ${error}`, {
        cause: error,
      });
    } finally {
      this.#carried = undefined;
    }
    this.#swap(next, size, snapshotBytes, carried.length > 0);
    try {
      // With fsyncMs 0, no later line may resolve before the rename is durable: sync it now.
      const dir = Deno.openSync(dirname(this.#path), { read: true });
      try {
        if (this.#options.fsyncMs === 0) dir.syncSync();
        else await dir.sync();
      } finally {
        dir.close();
      }
    } catch (error) {
      // Without it, power loss could bring back the old journal and lose the lines after it.
      this.#failure = asError(error);
      throw this.#failed();
    }
  }

  /** Makes `next` the journal. */
  #swap(next: Deno.FsFile, size: number, snapshotBytes: number, dirty: boolean): void {
    const previous = this.#file;
    this.#file = next;
    this.#size = size;
    this.#snapshotBytes = snapshotBytes;
    this.#dirty = dirty && this.#options.fsyncMs > 0;
    // A background sync may still use the replaced file: close it once that is done.
    const closePrevious = () => {
      try {
        previous.close();
      } catch {
        // Already closed: nothing holds it.
      }
    };
    if (this.#syncing) this.#syncing.then(closePrevious);
    else closePrevious();
  }

  /** Syncs what is not yet synced, closes the journal and releases the lock. */
  async close(): Promise<void> {
    this.#stopTimer();
    await this.#syncing;
    try {
      if (this.#dirty && !this.#failure) this.#file.syncDataSync();
    } catch (error) {
      this.#options.onError(asError(error));
    } finally {
      this.abandon();
    }
  }

  /** Closes the journal and releases the lock at once, without syncing (opening failed). */
  abandon(): void {
    this.#stopTimer();
    this.#file.close();
    this.#lock.close();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #encode(line: string): Uint8Array {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (line.length * 3 > BUFFER_BYTES) return this.#encoder.encode(line);
    const { written } = this.#encoder.encodeInto(line, this.#buffer);
    return this.#buffer.subarray(0, written);
  }

  #syncInBackground(): void {
    if (!this.#dirty || this.#syncing || this.#failure) return;
    this.#dirty = false;
    const file = this.#file;
    this.#syncing = file.syncData().then(
      () => {},
      (error) => {
        // A file compaction replaced was synced in full before the rename: nothing is at stake.
        if (file !== this.#file) return;
        // After a failed fsync the kernel may have dropped the pages: stop, fail closed.
        this.#failure = asError(error);
        this.#options.onError(this.#failed());
      },
    ).finally(() => this.#syncing = undefined);
  }

  /** Removes the part of a failed write that reached the file, or stops the journal. */
  #cutBack(error: unknown): void {
    try {
      if (this.#file.statSync().size !== this.#size) this.#file.truncateSync(this.#size);
    } catch {
      this.#failure = asError(error);
    }
  }

  #failed(): SpendStoreError {
    return new SpendStoreError(
      `The spend journal ${this.#path} stopped accepting writes: ${this.#failure?.message}. ` +
        "Restart to recover from it.",
      { cause: this.#failure },
    );
  }
}

/** One `write` loop: a write may be partial (a signal, a full pipe); what returns is written. */
function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length;) {
    const n = file.writeSync(bytes.subarray(written));
    if (n <= 0) throw new Error("write(2) wrote nothing");
    written += n;
  }
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

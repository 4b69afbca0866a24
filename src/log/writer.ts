/**
 * The decision-log writer. `append()` is what the request path calls: it serializes the record,
 * puts it in a bounded in-memory buffer and returns; it never awaits and never throws. A timer
 * flushes the buffer off the response path, one `write` of whole lines per batch to a file opened
 * with O_APPEND, so a crash can tear at most the last line (which the reader skips). When the disk
 * is full or the path unwritable, records stay buffered (new ones are dropped and counted once the
 * buffer is full), the error is logged once per distinct message and shown in `status()`, and the
 * write is retried with backoff.
 */
import { hash32 } from "../policy/split.ts";
import type { DecisionRecord } from "./record.ts";
import { LogFile } from "./log_file.ts";

export interface DecisionLogOptions {
  /** The live log file; rotated files are written beside it. */
  path: string;
  /** Default true. When false, `append()` does nothing. */
  enabled?: boolean;
  /** Share of requests logged, 0..1 (default 1); decided by request id, so replays agree. */
  sampleRate?: number;
  /** Rotate when the file would pass `maxBytes`, and/or when the UTC day changes. */
  rotation?: { maxBytes?: number; daily?: boolean };
  /** Records held in memory at most (default 10 000); newer ones are dropped beyond it. */
  maxBufferedRecords?: number;
  /** Bytes held in memory at most (default 16 MiB). */
  maxBufferedBytes?: number;
  /** How long records wait before a batch is written, in ms (default 200). */
  flushIntervalMs?: number;
  /** Longest wait between retries after a failed write, in ms (default 30 000). */
  maxRetryDelayMs?: number;
  /** Where write failures are reported, once per distinct error (default `console.error`). */
  logger?: (message: string) => void;
  /** The clock, for rotation stamps and error times (tests fix it). */
  now?: () => Date;
}

/** What `/v1/policy` shows about the decision log. */
export interface DecisionLogStatus {
  enabled: boolean;
  path: string;
  sampleRate: number;
  /** Records written to disk since start. */
  written: number;
  /** Records lost: the buffer was full, a record could not be serialized, or still unwritten at close. */
  dropped: number;
  /** Records not logged because of sampling. */
  sampledOut: number;
  /** Records waiting in memory. */
  buffered: number;
  /** Failed write attempts since start. */
  writeErrors: number;
  /** True while the latest write attempt failed (records are being held and retried). */
  failing: boolean;
  lastError?: { message: string; at: string };
}

const MiB = 1024 * 1024;

/** Whether a request is logged at this sample rate: a pure function of its id. */
export function isSampled(requestId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  // FNV-1a then murmur3's finalizer: ids that differ in one character land far apart.
  let h = hash32(requestId);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 0x1_0000_0000 < rate;
}

/** Creates a decision log; call `close()` on shutdown so buffered records reach the disk. */
export function createDecisionLog(options: DecisionLogOptions): DecisionLog {
  return new DecisionLog(options);
}

/** A buffered, rotating, append-only JSON-lines writer for decision records. */
export class DecisionLog {
  readonly #path: string;
  readonly #enabled: boolean;
  readonly #rate: number;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #interval: number;
  readonly #maxRetry: number;
  readonly #logger: (message: string) => void;
  readonly #now: () => Date;
  readonly #encoder = new TextEncoder();

  /** Lines waiting to be written; lines of the batch being written are counted in #pending*. */
  #buffer: Uint8Array[] = [];
  #pendingRecords = 0;
  #pendingBytes = 0;
  readonly #file: LogFile;
  #timer?: ReturnType<typeof setTimeout>;
  #flushing?: Promise<void>;
  #retryDelay = 0;
  #closed = false;
  readonly #reported = new Set<string>();
  #written = 0;
  #dropped = 0;
  #sampledOut = 0;
  #writeErrors = 0;
  #failing = false;
  #lastError?: { message: string; at: string };

  constructor(options: DecisionLogOptions) {
    this.#path = options.path;
    this.#enabled = options.enabled ?? true;
    this.#rate = Math.min(1, Math.max(0, options.sampleRate ?? 1));
    this.#maxRecords = options.maxBufferedRecords ?? 10_000;
    this.#maxBytes = options.maxBufferedBytes ?? 16 * MiB;
    this.#interval = options.flushIntervalMs ?? 200;
    this.#maxRetry = options.maxRetryDelayMs ?? 30_000;
    this.#logger = options.logger ?? ((message) => console.error(message));
    this.#now = options.now ?? (() => new Date());
    this.#file = new LogFile(options.path, { ...options.rotation, now: this.#now });
  }

  /** Queues one record. Never throws, never waits: the request path calls it. */
  append(record: DecisionRecord): void {
    if (!this.#enabled || this.#closed) return;
    try {
      if (!isSampled(record.request_id, this.#rate)) {
        this.#sampledOut++;
        return;
      }
      const line = this.#encoder.encode(`${JSON.stringify(record)}\n`);
      if (
        this.#pendingRecords >= this.#maxRecords ||
        this.#pendingBytes + line.length > this.#maxBytes
      ) {
        this.#dropped++; // drop the newest: what is already queued keeps its order
        return;
      }
      this.#buffer.push(line);
      this.#pendingRecords++;
      this.#pendingBytes += line.length;
      this.#schedule(this.#interval);
    } catch (error) {
      this.#dropped++;
      this.#report(error, "the record was dropped");
    }
  }

  /** Counters and the last error, for `/v1/policy` and metrics. */
  status(): DecisionLogStatus {
    const status: DecisionLogStatus = {
      enabled: this.#enabled,
      path: this.#path,
      sampleRate: this.#rate,
      written: this.#written,
      dropped: this.#dropped,
      sampledOut: this.#sampledOut,
      buffered: this.#pendingRecords,
      writeErrors: this.#writeErrors,
      failing: this.#failing,
    };
    if (this.#lastError) status.lastError = { ...this.#lastError };
    return status;
  }

  /** Writes everything buffered now; resolves when done (failures are reported, not thrown). */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.length === 0) return;
    this.#flushing = this.#write().finally(() => (this.#flushing = undefined));
    await this.#flushing;
    if (this.#buffer.length > 0) this.#schedule(this.#failing ? this.#retryDelay : this.#interval);
  }

  /** Flushes, then stops; records that still cannot be written are counted as dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    this.#dropped += this.#buffer.length;
    this.#buffer = [];
    this.#pendingRecords = 0;
    this.#pendingBytes = 0;
    this.#file.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #schedule(delay: number): void {
    if (this.#timer !== undefined || this.#flushing || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error) => this.#report(error, "the write is retried"));
    }, delay);
  }

  /** Writes the whole buffer; on failure, puts back what is not on disk, ahead of newer lines. */
  async #write(): Promise<void> {
    const batch = this.#buffer;
    this.#buffer = [];
    let index = 0;
    try {
      await this.#file.append(batch, (lines) => {
        for (let i = index; i < index + lines; i++) this.#pendingBytes -= batch[i].length;
        this.#pendingRecords -= lines;
        this.#written += lines;
        index += lines;
      });
      this.#failing = false;
      this.#retryDelay = 0;
    } catch (error) {
      this.#writeErrors++;
      this.#failing = true;
      // Back off from 5 flush intervals (1 s by default), doubling up to the cap.
      this.#retryDelay = Math.min(
        this.#maxRetry,
        this.#retryDelay ? this.#retryDelay * 2 : this.#interval * 5,
      );
      this.#report(
        error,
        `records are kept in memory (up to ${this.#maxRecords}) and the write is retried`,
      );
      this.#buffer = [...batch.slice(index), ...this.#buffer];
    }
  }

  /** Logs a failure the first time its message is seen; always records it for `status()`. */
  #report(error: unknown, consequence: string): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#lastError = { message, at: this.#now().toISOString() };
    if (this.#reported.has(message)) return;
    this.#reported.add(message);
    try {
      this.#logger(
        `Decision log ${this.#path}: ${message}. Requests are still served; ${consequence}.`,
      );
    } catch {
      // A broken logger must not break the request path either.
    }
  }
}

/**
 * The live decision-log file: opened with O_APPEND, written in whole lines, rotated by size or by
 * UTC day to `path.YYYYMMDD-HHMMSS[-n]`. If a write stops part-way (a full disk), the next write
 * first ends the torn line, so that only that one line is lost and the reader can skip it.
 */
import { dirname } from "node:path";
import { rotatedPath } from "./rotation.ts";

export interface LogFileOptions {
  /** Rotate before the file would pass this many bytes (default: never). */
  maxBytes?: number;
  /** Rotate when the UTC day changes. */
  daily?: boolean;
  now: () => Date;
}

function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** An append-only, rotating file of JSON lines. */
export class LogFile {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #daily: boolean;
  readonly #now: () => Date;
  #file?: Deno.FsFile;
  #size = 0;
  /** UTC day the live file's records belong to. */
  #day = "";
  /** A failed write left part of a line on disk. */
  #torn = false;

  constructor(path: string, options: LogFileOptions) {
    this.#path = path;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#daily = options.daily ?? false;
    this.#now = options.now;
  }

  /**
   * Appends lines (each ending in `\n`), one write per file, rotating between files as needed.
   * `onWritten(n)` is called with the number of lines fully on disk after each write, also when
   * that write then fails; on failure the file is closed (reopened next time) and the error thrown.
   */
  async append(lines: Uint8Array[], onWritten: (lines: number) => void): Promise<void> {
    let index = 0;
    try {
      while (index < lines.length) {
        await this.#open();
        if (this.#size === 0) this.#day = dayOf(this.#now());
        else if (this.#daily && this.#day !== dayOf(this.#now())) {
          await this.#rotate();
          continue;
        }
        const room = this.#maxBytes - this.#size;
        let end = index;
        let bytes = 0;
        while (end < lines.length && bytes + lines[end].length <= room) {
          bytes += lines[end++].length;
        }
        if (end === index) {
          if (this.#size > 0) {
            await this.#rotate();
            continue;
          }
          end++; // a line longer than maxBytes gets a file of its own
        }
        const written = await this.#write(lines, index, end, onWritten);
        index += written;
      }
    } catch (error) {
      this.close(); // reopen next time: the directory may come back, or the disk be remounted
      throw error;
    }
  }

  /** Closes the descriptor; writes are unbuffered, so nothing is lost. */
  close(): void {
    try {
      this.#file?.close();
    } catch {
      // Already closed: nothing to release.
    }
    this.#file = undefined;
  }

  /** One write of lines [from, to); reports and returns how many lines are fully on disk. */
  async #write(
    lines: Uint8Array[],
    from: number,
    to: number,
    onWritten: (lines: number) => void,
  ): Promise<number> {
    const prefix = this.#torn ? 1 : 0;
    let total = prefix;
    for (let i = from; i < to; i++) total += lines[i].length;
    const data = new Uint8Array(total);
    if (prefix) data[0] = 0x0a; // ends the torn line, so that it costs only itself
    let offset = prefix;
    for (let i = from; i < to; i++) {
      data.set(lines[i], offset);
      offset += lines[i].length;
    }
    let done = 0;
    let complete = 0;
    try {
      // A regular file takes the whole buffer in one write; a short count means the disk filled.
      while (done < data.length) done += await this.#file!.write(data.subarray(done));
    } finally {
      this.#size += done;
      let rest = done - prefix;
      while (from + complete < to && rest >= lines[from + complete].length) {
        rest -= lines[from + complete].length;
        complete++;
      }
      // Part of a line on disk: the next write must start a new line. Nothing written: unchanged.
      if (rest > 0) this.#torn = true;
      else if (done > 0) this.#torn = false;
      onWritten(complete);
    }
    return complete;
  }

  async #open(): Promise<void> {
    if (this.#file) return;
    await Deno.mkdir(dirname(this.#path), { recursive: true });
    const file = await Deno.open(this.#path, { read: true, append: true, create: true });
    try {
      const info = await file.stat();
      this.#size = info.size;
      // A previous run may have crashed mid-line: end that line before appending to it.
      if (info.isFile && info.size > 0) {
        const last = new Uint8Array(1);
        await file.seek(-1, Deno.SeekMode.End); // O_APPEND still writes at the end
        this.#torn = (await file.read(last)) === 1 && last[0] !== 0x0a;
      }
      // A file left from a previous run belongs to the day it was last written.
      this.#day = dayOf(info.size > 0 && info.mtime ? info.mtime : this.#now());
    } catch (error) {
      file.close();
      throw error;
    }
    this.#file = file;
  }

  /** Renames the live file to `path.YYYYMMDD-HHMMSS[-n]`; the next write creates a new one. */
  async #rotate(): Promise<void> {
    this.close();
    const at = this.#now();
    for (let n = 0;; n++) {
      const target = rotatedPath(this.#path, at, n);
      try {
        await Deno.lstat(target);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        await Deno.rename(this.#path, target);
        this.#torn = false; // the torn line, if any, ends the rotated file
        return;
      }
    }
  }
}

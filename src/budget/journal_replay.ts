/**
 * Reading a spend journal back: every complete line, in order, parsed and handed to the state.
 * The bytes after the last newline, if any, are a line an interrupted write left unfinished (or,
 * for a reader beside a running writer, a line being written): they are counted, not parsed.
 */
import { type JournalRecord, parseRecord } from "./journal_records.ts";
import { SpendStoreError } from "./store.ts";

/** What a replay found. */
export interface Replay {
  /** Bytes of complete lines (the file's size once a torn tail is cut off). */
  bytes: number;
  /** Bytes after the last newline: a line an interrupted write left unfinished. */
  tornBytes: number;
  /** Complete lines, and how many of them (head included) are the snapshot. */
  lines: number;
  snapshotLines: number;
}

/**
 * Reads every complete line of a journal into `apply`, in order. A missing or empty file is an
 * empty journal. Throws `JournalFormatError` for a damaged line before the last newline.
 */
export function replayJournal(path: string, apply: (record: JournalRecord) => void): Replay {
  let data: Uint8Array;
  try {
    data = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { bytes: 0, tornBytes: 0, lines: 0, snapshotLines: 0 };
    }
    throw error;
  }
  const bytes = data.lastIndexOf(0x0a) + 1;
  // A journal starts with a whole head line (it is created by a rename): bytes without one are
  // some other file, never to be cut as a torn line.
  if (bytes === 0 && data.length > 0) throw notAJournal(path, "no complete first line");
  const text = new TextDecoder().decode(data.subarray(0, bytes));
  let lines = 0;
  let snapshotLines = 0;
  for (let start = 0; start < text.length;) {
    const end = text.indexOf("\n", start);
    const line = text.slice(start, end);
    lines++;
    if (lines === 1) {
      let head: JournalRecord;
      try {
        head = parseRecord(line, path, 1);
      } catch (error) {
        throw notAJournal(path, error instanceof Error ? error.message : String(error));
      }
      if (head.t !== "head") throw notAJournal(path, "no head line");
      snapshotLines = 1 + head.lines;
      apply(head);
    } else {
      apply(parseRecord(line, path, lines));
    }
    start = end + 1;
  }
  if (lines > 0 && lines < snapshotLines) {
    throw new SpendStoreError(
      `${path}: the snapshot is incomplete (${lines} of ${snapshotLines} lines)`,
    );
  }
  return { bytes, tornBytes: data.length - bytes, lines, snapshotLines };
}

function notAJournal(path: string, why: string): SpendStoreError {
  return new SpendStoreError(`${path} is not a Switchyard spend journal (${why})`);
}

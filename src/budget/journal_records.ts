/**
 * The spend journal's format: one JSON object per line. A journal is a snapshot (a `head` line
 * that counts the snapshot lines after it, then `counter`, `reserve` and `settled` lines) followed
 * by mutations, appended one line each: `reserve`, `settle`, `release` and `reclaim`. Replaying
 * the lines in order rebuilds the store's state; see journal_state.ts for what each one does.
 *
 * @example
 * {"t":"head","v":1,"at":1767614400000,"lines":2}
 * {"t":"counter","c":["day","2026-01-05","key","k-alice"],"s":120,"n":1}
 * {"t":"settled","ids":[["5f0c…",1767614400000]]}
 * {"t":"reserve","id":"9a1e…","e":300,"x":1767615300000,"c":[["day","2026-01-05","key","k-alice"]],"at":1767614400000}
 * {"t":"settle","id":"9a1e…","n":95,"at":1767614401000,"a":{"key":"k-alice","tags":[],"route":"r","via":"direct"}}
 */
import { z } from "zod";
import { type Attribution, type CounterRef, DIMENSIONS } from "./store.ts";
import { WINDOW_KINDS } from "./windows.ts";

/** The format version a head line carries; a journal of another version is refused. */
export const JOURNAL_VERSION = 1;

const Nano = z.int().nonnegative();
const Time = z.int();
const CounterTupleSchema = z.tuple([
  z.enum(WINDOW_KINDS),
  z.string(),
  z.enum(DIMENSIONS),
  z.string(),
]);

/** A counter on one line: window, period, dimension, id. */
export type CounterTuple = z.infer<typeof CounterTupleSchema>;

const RecordSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("head"), v: z.literal(JOURNAL_VERSION), at: Time, lines: z.int() }),
  z.object({ t: z.literal("counter"), c: CounterTupleSchema, s: Nano, n: Nano }),
  z.object({ t: z.literal("settled"), ids: z.array(z.tuple([z.string(), Time])) }),
  z.object({
    t: z.literal("reserve"),
    id: z.string(),
    e: Nano,
    x: Time,
    c: z.array(CounterTupleSchema),
    /** Absent on snapshot lines: a lease carried over, not a new reservation. */
    at: Time.optional(),
  }),
  z.object({
    t: z.literal("settle"),
    id: z.string(),
    n: Nano,
    at: Time,
    a: z.object({
      key: z.string().optional(),
      team: z.string().optional(),
      tags: z.array(z.string()),
      route: z.string(),
      via: z.enum(["direct", "gateway"]),
    }),
  }),
  z.object({ t: z.enum(["release", "reclaim"]), ids: z.array(z.string()) }),
]);

/** One journal line, parsed. */
export type JournalRecord = z.infer<typeof RecordSchema>;

/** A line that is not a journal record: the file is damaged or is not a spend journal. */
export class JournalFormatError extends SyntaxError {
  override name = "JournalFormatError";
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

/** Parses one line (without its newline). */
export function parseRecord(text: string, file: string, line: number): JournalRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JournalFormatError(file, line, "not a JSON line: the spend journal is damaged");
  }
  const parsed = RecordSchema.safeParse(value);
  if (!parsed.success) {
    throw new JournalFormatError(
      file,
      line,
      `not a spend journal record (${z.prettifyError(parsed.error).split("\n")[0]})`,
    );
  }
  return parsed.data;
}

/** A line for a record, newline included. */
export function formatRecord(record: JournalRecord): string {
  return JSON.stringify(record) + "\n";
}

/** The counter a tuple names. */
export function fromTuple([window, period, dimension, id]: CounterTuple): CounterRef {
  return { window, period, dimension, id };
}

/** The tuple that names a counter on a line. */
export function toTuple(c: CounterRef): CounterTuple {
  return [c.window, c.period, c.dimension, c.id];
}

/** Only the fields of an attribution (a caller's object may carry more). */
export function attributionRecord(a: Attribution): Extract<JournalRecord, { t: "settle" }>["a"] {
  return {
    ...(a.key === undefined ? {} : { key: a.key }),
    ...(a.team === undefined ? {} : { team: a.team }),
    tags: [...a.tags],
    route: a.route,
    via: a.via,
  };
}

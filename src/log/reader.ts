/**
 * Reading decision logs back: one file, several, or a directory, rotated files first, streamed
 * line by line so a large log never has to fit in memory. A torn final line (a write interrupted
 * by a crash or a full disk) and any malformed line are skipped with a warning naming the file and
 * line; records are checked with a light zod schema covering what replay and diff rely on.
 */
import { join } from "node:path";
import { z } from "zod";
import { DECISION_LOG_VERSION, type DecisionRecord } from "./record.ts";
import { compareLogFiles, parseRotated } from "./rotation.ts";

/** A line that was skipped, and why. Lines are 1-based. */
export interface LogWarning {
  file: string;
  line: number;
  message: string;
}

export interface DecisionLogContents {
  records: DecisionRecord[];
  warnings: LogWarning[];
  /** The files read, in the order they were read. */
  files: string[];
}

const Via = z.enum(["direct", "gateway"]);
const PolicyRef = z.looseObject({ name: z.string(), version: z.string(), hash: z.string() });
const LoggedDecision = z.looseObject({
  rule: z.string().nullable(),
  route: z.string(),
  via: Via,
  fallbacks: z.array(z.string()),
});

/** What a reader needs from a line; extra fields pass through untouched. */
const RecordSchema = z.looseObject({
  v: z.literal(DECISION_LOG_VERSION),
  ts: z.string(),
  request_id: z.string(),
  policy: PolicyRef,
  facts: z.looseObject({
    request: z.looseObject({ model: z.string(), max_tokens: z.number().optional() }),
    prompt: z.looseObject({ tokens: z.number() }),
    tags: z.array(z.string()),
    routes: z.record(z.string(), z.looseObject({})),
  }),
  decision: LoggedDecision,
  shadow: LoggedDecision.extend({ policy: PolicyRef }).optional(),
  attempts: z.array(z.looseObject({
    route: z.string(),
    outcome: z.string(),
    latency_ms: z.number(),
    ttft_ms: z.number().optional(),
  })).default([]),
  status: z.number(),
  usage: z.looseObject({
    input_tokens: z.number(),
    output_tokens: z.number(),
    cached_input_tokens: z.number().default(0),
  }).optional(),
  duration_ms: z.number(),
});

const LOG_NAME = /\.(jsonl|ndjson|log)$/;

/**
 * The files behind the given paths, oldest first: a directory stands for its `*.jsonl`,
 * `*.ndjson` and `*.log` files and their rotated files; files named directly are kept.
 */
export async function logFiles(paths: string[]): Promise<string[]> {
  const files = new Set<string>();
  for (const path of paths) {
    const info = await Deno.stat(path);
    if (!info.isDirectory) {
      files.add(path);
      continue;
    }
    for await (const entry of Deno.readDir(path)) {
      const rotated = parseRotated(entry.name);
      if (entry.isFile && LOG_NAME.test(rotated?.live ?? entry.name)) {
        files.add(join(path, entry.name));
      }
    }
  }
  return [...files].sort(compareLogFiles);
}

/** Lines of a file with their numbers, and whether the last one ended with a newline. */
async function* lines(file: string): AsyncGenerator<{ text: string; n: number; last: boolean }> {
  using handle = await Deno.open(file, { read: true });
  let pending = "";
  let n = 0;
  for await (const chunk of handle.readable.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield { text: pending.slice(0, newline), n: ++n, last: false };
      pending = pending.slice(newline + 1);
    }
  }
  if (pending !== "") yield { text: pending, n: ++n, last: true };
}

/** Parses one line; returns the record or why it was skipped. */
function parseLine(text: string): { record: DecisionRecord } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "not valid JSON" };
  }
  const version = (value as { v?: unknown } | null)?.v;
  if (typeof version === "number" && version !== DECISION_LOG_VERSION) {
    return { error: `record version ${version} is not supported (known: ${DECISION_LOG_VERSION})` };
  }
  const parsed = RecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `invalid record at \`${issue.path.join(".") || "(root)"}\`: ${issue.message}` };
  }
  // The schema checks every field replay and diff read; the rest is trusted as the writer's.
  return { record: parsed.data as unknown as DecisionRecord };
}

/**
 * Streams the records of the given log files in order; skipped lines go to `onWarning`.
 * Throws only when a file cannot be opened.
 */
export async function* decisionRecords(
  files: string[],
  onWarning: (warning: LogWarning) => void,
): AsyncGenerator<DecisionRecord> {
  for (const file of files) {
    for await (const { text, n, last } of lines(file)) {
      if (text.trim() === "") continue;
      const result = parseLine(text);
      if ("record" in result) {
        yield result.record;
        continue;
      }
      const message = last
        ? `torn final line (an interrupted write), skipped: ${result.error}`
        : `malformed line skipped: ${result.error}`;
      onWarning({ file, line: n, message });
    }
  }
}

/** Reads every record of a log (a file, several files or a directory) into memory. */
export async function readDecisionLog(paths: string | string[]): Promise<DecisionLogContents> {
  const files = await logFiles(typeof paths === "string" ? [paths] : paths);
  const warnings: LogWarning[] = [];
  const records: DecisionRecord[] = [];
  for await (const record of decisionRecords(files, (w) => warnings.push(w))) records.push(record);
  return { records, warnings, files };
}

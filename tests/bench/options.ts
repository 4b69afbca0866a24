/**
 * The load benchmark's options: flags over `BENCH_*` environment variables over `--quick`'s
 * defaults over the full run's defaults, parsed once with zod.
 */
import { parseArgs } from "node:util";
import { z } from "zod";

/** Every target the benchmark knows, in their order. */
export const TARGETS = [
  "direct",
  "passthrough",
  "passthrough-http1",
  "passthrough-otel",
  "switchyard",
  "switchyard-otel",
] as const;
export type TargetName = typeof TARGETS[number];

/**
 * The targets of a run by default: the issue's comparison. `passthrough-http1` (the same bare
 * proxy on Switchyard's own HTTP/1.1 client) and `passthrough-otel` (the bare proxy with Deno's
 * tracing on) are asked for by name.
 */
export const DEFAULT_TARGETS: readonly TargetName[] = [
  "direct",
  "passthrough",
  "switchyard",
  "switchyard-otel",
];

/** Every phase; `fixed` runs once per rate. */
export const PHASES = ["fixed", "max", "stream", "memory"] as const;
export type PhaseName = typeof PHASES[number];

/** A comma-separated list. */
const csv = z.string().transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x !== ""));
/** A comma-separated list of numbers. */
const numbers = csv.transform((a) => a.map(Number));
const positive = z.coerce.number().positive();
const count = z.coerce.number().int().positive();

const OptionsSchema = z.object({
  rounds: count,
  seconds: positive,
  warmup: z.coerce.number().min(0),
  rates: numbers.pipe(z.array(z.number().positive()).min(1)),
  streams: count,
  streamWarmup: z.coerce.number().int().min(0),
  chunks: count,
  contextBytes: z.coerce.number().int().min(0),
  connections: count,
  maxInFlight: count,
  memoryRequests: numbers.pipe(z.array(z.number().int().positive())).refine(
    (a) => a.length === 2 && a[0] < a[1],
    {
      message: "Give two increasing request counts, e.g. 20000,200000",
    },
  ),
  targets: csv.pipe(z.array(z.string().pipe(z.enum(TARGETS))).min(1)),
  phases: csv.pipe(z.array(z.string().pipe(z.enum(PHASES))).min(1)),
  client: z.enum(["tcp", "fetch"]),
  out: z.string().min(1),
  quick: z.boolean(),
});
/** Parsed options. */
export type Options = z.infer<typeof OptionsSchema>;

/** Flag name → (env variable, full-run default, quick-run default). */
const SETTINGS: Record<string, { env: string; full: string; quick?: string }> = {
  rounds: { env: "BENCH_ROUNDS", full: "3", quick: "1" },
  seconds: { env: "BENCH_SECONDS", full: "5", quick: "2" },
  warmup: { env: "BENCH_WARMUP", full: "1", quick: "0.5" },
  rates: { env: "BENCH_RATES", full: "200,1000" },
  streams: { env: "BENCH_STREAMS", full: "100", quick: "50" },
  "stream-warmup": { env: "BENCH_STREAM_WARMUP", full: "10", quick: "5" },
  chunks: { env: "BENCH_CHUNKS", full: "20" },
  "context-bytes": { env: "BENCH_CONTEXT_BYTES", full: "0" },
  connections: { env: "BENCH_CONNECTIONS", full: "32" },
  "max-in-flight": { env: "BENCH_MAX_IN_FLIGHT", full: "256" },
  "memory-requests": { env: "BENCH_MEMORY_REQUESTS", full: "20000,200000" },
  targets: { env: "BENCH_TARGETS", full: DEFAULT_TARGETS.join(",") },
  phases: { env: "BENCH_PHASES", full: PHASES.join(","), quick: "fixed,max,stream" },
  client: { env: "BENCH_CLIENT", full: "tcp" },
  out: { env: "BENCH_OUT", full: "tests/bench/results" },
};

/** The usage text for `--help`. */
export const USAGE = `Usage: deno task bench:load [--quick] [--flag value ...]

Starts a mock upstream, a bare Deno passthrough, and Switchyard with tracing off and on, all on
127.0.0.1, and measures them interleaved: round → phase → target (order rotated each round).

  --quick                 1 round, 2 s phases, 50 streams, no memory phase (under a minute)
  --report FILE.json      print the tables of an earlier run again (nothing is measured)
${
  Object.entries(SETTINGS).map(([flag, s]) =>
    `  --${flag.padEnd(22)}${s.env}, default ${s.full}${s.quick ? ` (quick: ${s.quick})` : ""}`
  ).join("\n")
}

targets: ${TARGETS.join(", ")}; phases: ${PHASES.join(", ")} (fixed runs once per rate).
passthrough-http1 is the passthrough on Switchyard's own HTTP/1.1 upstream client instead of fetch:
the floor with the client Switchyard uses. passthrough-otel is the passthrough with OTEL_DENO=true
exporting to the same local sink as switchyard-otel: what Deno's own tracing costs a bare proxy.
Ratios stay against the passthrough on fetch, tracing off; with passthrough-otel in the run, a
like-for-like table also divides switchyard-otel's figures by passthrough-otel's.
--context-bytes N adds a system message of about N bytes of retrieved passages to every request
(a RAG-sized prompt); 0 sends the small chat request the reference harness sends.
Writes the raw per-round numbers to <out>/<timestamp>.json and prints markdown tables.`;

/** An option mistake, reported before anything starts. */
export class OptionsError extends Error {
  override name = "OptionsError";
}

/** What the command line asks for: usage, a saved run's tables again, or a run. */
export type Command =
  | { kind: "help" }
  | { kind: "report"; file: string }
  | { kind: "run"; options: Options };

/** Parses flags and environment; `env` is injectable for tests. */
export function parseOptions(
  args: string[],
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Command {
  const flags: Record<string, { type: "string" | "boolean" }> = {
    quick: { type: "boolean" },
    help: { type: "boolean" },
    report: { type: "string" },
  };
  for (const flag of Object.keys(SETTINGS)) flags[flag] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: flags, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
  if (values.help) return { kind: "help" };
  if (typeof values.report === "string") return { kind: "report", file: values.report };
  const quick = values.quick === true || /^(1|true|yes)$/i.test(env("BENCH_QUICK") ?? "");
  const raw: Record<string, unknown> = { quick };
  for (const [flag, s] of Object.entries(SETTINGS)) {
    const key = flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    raw[key] = values[flag] ?? (env(s.env) || undefined) ?? (quick ? s.quick : undefined) ?? s.full;
  }
  const parsed = OptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new OptionsError(`Invalid --${flag}: ${issue.message}`);
  }
  return { kind: "run", options: parsed.data };
}

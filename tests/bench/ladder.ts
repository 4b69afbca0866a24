/**
 * `deno task bench:ladder`: where the gap between the passthrough and Switchyard comes from. The
 * passthrough, then one rung per router duty (router_floor.ts, each rung adding one duty to the
 * one before), then Switchyard (tracing off) without and with its spend store, measured
 * interleaved over rounds: open-loop latency at fixed rates, max throughput at 32 connections and
 * sequential 20-chunk streams, against the same mock. The last duty rung (`+observe`) is what any
 * Deno router doing Switchyard's job pays; the step from it to Switchyard is Switchyard's own.
 *
 *   deno task bench:ladder           3 rounds; 3 s per rate and per throughput phase; 200 streams
 *   deno task bench:ladder --rounds 1 --seconds 1 --streams 20 --rates 200    a quick look
 */
import { parseArgs } from "node:util";
import { runClosedLoop } from "./closed_loop.ts";
import { runFixedRate } from "./fixed_rate.ts";
import { clientFactory } from "./http_client.ts";
import { checkTarget, PLAIN_BODY, STREAM_BODY } from "./rounds.ts";
import { median } from "./stats.ts";
import { runStreaming } from "./streaming.ts";
import { startHelper, startSwitchyard, withRunScope } from "./targets.ts";
import { DUTIES, DUTY_DESCRIPTIONS } from "./router_floor.ts";

const PATH = "/v1/chat/completions";
const CONNECTIONS = 32;
/** Fixed-rate phases: warm-up before measuring, connections at most, wait for stragglers. */
const FIXED_WARMUP_SECONDS = 0.5;
const MAX_IN_FLIGHT = 256;
const GRACE_SECONDS = 5;
/** Longest one streaming measurement may run, s. */
const STREAM_MAX_SECONDS = 60;

/** One rung of the ladder. */
export interface Rung {
  name: string;
  /** What it adds to the rung before it. */
  adds: string;
}

/** The rungs, in order: passthrough, each duty added in turn, Switchyard. */
export const RUNGS: Rung[] = [
  { name: "passthrough", adds: "bare Deno proxy (the floor): body piped back natively" },
  ...DUTIES.map((duty) => ({ name: `+${duty}`, adds: DUTY_DESCRIPTIONS[duty] })),
  {
    name: "switchyard-no-store",
    adds: "Switchyard on policies/bench.yaml, tracing off, `--store none` (no spend accounting)",
  },
  {
    name: "switchyard",
    adds: "the same with its default spend store: what `deno task serve` runs",
  },
];

/** One round's figures for one rung; latencies in µs. */
export interface RungFigures {
  rps: number;
  ttfbP50: number;
  totalP50: number;
  /** Open-loop latency at each fixed rate (req/s → p50/p99). */
  fixed: Record<string, { p50: number; p99: number }>;
  errors: number;
}

/** What the mock alone measures in a round: the baseline every "added" figure subtracts. */
export interface DirectFigures {
  ttfbP50: number;
  totalP50: number;
  fixed: Record<string, { p50: number; p99: number }>;
}

/** The figures of a whole run, per round and rung. */
export interface LadderRun {
  rates: number[];
  rounds: Record<string, RungFigures>[];
  direct: DirectFigures[];
}

const fmt = (x: number, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "—";

/** The ladder's markdown tables: medians across rounds, each as a share or multiple of the floor. */
export function renderLadder(run: LadderRun): string {
  const med = (pick: (f: RungFigures) => number, rung: string) =>
    median(run.rounds.map((r) => r[rung] ? pick(r[rung]) : NaN));
  const direct = (pick: (d: DirectFigures) => number) => median(run.direct.map(pick));
  /** A figure added over the mock alone, and its multiple of the passthrough's. */
  const added = (pick: (f: RungFigures) => number, base: number, rung: string) => {
    const value = med(pick, rung) - base;
    const floor = med(pick, "passthrough") - base;
    return `${fmt(value)} µs | ${fmt(value / floor, 2)}`;
  };
  const ttfb = (f: RungFigures) => f.ttfbP50;
  const total = (f: RungFigures) => f.totalP50;
  const throughput = [
    "| rung | adds | max req/s | × floor | stream TTFB added p50 | × floor | stream total added p50 | × floor |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  const latency = [
    `| rung | ${
      run.rates.map((r) => `p50 added at ${r}/s | × floor | p99 added at ${r}/s | × floor`).join(
        " | ",
      )
    } |`,
    `|---|${run.rates.map(() => "---:|---:|---:|---:").join("|")}|`,
  ];
  const floorRps = med((f) => f.rps, "passthrough");
  for (const rung of RUNGS) {
    const rps = med((f) => f.rps, rung.name);
    const errors = run.rounds.reduce((n, r) => n + (r[rung.name]?.errors ?? 0), 0);
    throughput.push(
      `| ${rung.name} | ${rung.adds}${errors ? ` (**${errors} errors**)` : ""} | ${fmt(rps)} | ` +
        `${fmt(rps / floorRps, 2)} | ${added(ttfb, direct((d) => d.ttfbP50), rung.name)} | ` +
        `${added(total, direct((d) => d.totalP50), rung.name)} |`,
    );
    const cells = run.rates.map((rate) => {
      const at = (q: "p50" | "p99") => (f: RungFigures) => f.fixed[rate]?.[q] ?? NaN;
      const base = (q: "p50" | "p99") => direct((d) => d.fixed[rate]?.[q] ?? NaN);
      return `${added(at("p50"), base("p50"), rung.name)} | ${
        added(at("p99"), base("p99"), rung.name)
      }`;
    });
    latency.push(`| ${rung.name} | ${cells.join(" | ")} |`);
  }
  return `${throughput.join("\n")}\n\n${latency.join("\n")}`;
}

const log = (line: string) => console.error(`[ladder] ${line}`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "3" },
      streams: { type: "string", default: "200" },
      rates: { type: "string", default: "200,1000" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno task bench:ladder [--rounds 3] [--seconds 3] [--streams 200] " +
        "[--rates 200,1000]\n\nRungs:\n" +
        RUNGS.map((r) => `  ${r.name.padEnd(12)} ${r.adds}`).join("\n"),
    );
    return 0;
  }
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const streams = Number(values.streams);
  const rates = values.rates.split(",").map(Number);
  if (![rounds, seconds, streams, ...rates].every((n) => Number.isFinite(n) && n > 0)) {
    console.error("--rounds, --seconds, --streams and --rates must be positive numbers");
    return 2;
  }
  return await withRunScope(log, async ({ servers, runDir }) => {
    const mock = await startHelper("mock", "mock.ts");
    servers.push(mock);
    log(`mock :${mock.port} (pid ${mock.pid})`);
    const upstream = `http://127.0.0.1:${mock.port}`;
    const ports: Record<string, number> = {};
    for (const [i, rung] of RUNGS.entries()) {
      const server = rung.name === "passthrough"
        ? await startHelper(rung.name, "passthrough.ts", ["--upstream", upstream])
        : rung.name.startsWith("switchyard")
        ? await startSwitchyard({
          name: "switchyard",
          runDir,
          upstream,
          serveArgs: rung.name === "switchyard-no-store" ? ["--store", "none"] : [],
        })
        : await startHelper(
          rung.name,
          "router_floor.ts",
          ["--upstream", upstream, "--duties", DUTIES.slice(0, i).join(",")],
          // As Switchyard runs: request.signal aborts only when the client goes away.
          ["--unstable-no-legacy-abort"],
        );
      servers.push(server);
      ports[rung.name] = server.port;
      log(`${rung.name} :${server.port} (pid ${server.pid})`);
      await checkTarget(rung.name, server.port);
    }
    const run: LadderRun = { rates, rounds: [], direct: [] };
    const plain = (port: number) => clientFactory("tcp", { port, path: PATH, body: PLAIN_BODY });
    /** Open-loop latency at each rate, from the intended send times. */
    const fixed = async (port: number) => {
      const out: RungFigures["fixed"] = {};
      let errors = 0;
      for (const rate of rates) {
        const res = await runFixedRate({
          open: plain(port),
          rate,
          seconds,
          warmupSeconds: FIXED_WARMUP_SECONDS,
          maxInFlight: MAX_IN_FLIGHT,
          graceSeconds: GRACE_SECONDS,
        });
        out[rate] = { p50: res.p50, p99: res.p99 };
        errors += res.errors + res.dropped;
      }
      return { out, errors };
    };
    const stream = (port: number) =>
      runStreaming({
        open: clientFactory("tcp", { port, path: PATH, body: STREAM_BODY }),
        count: streams,
        warmup: Math.min(20, streams),
        maxSeconds: STREAM_MAX_SECONDS,
      });
    for (let r = 0; r < rounds; r++) {
      const shift = r % RUNGS.length;
      const order = [...RUNGS.slice(shift), ...RUNGS.slice(0, shift)];
      const figures: Record<string, RungFigures> = {};
      const direct = await stream(mock.port);
      const directFixed = await fixed(mock.port);
      run.direct.push({
        ttfbP50: direct.ttfbP50,
        totalP50: direct.totalP50,
        fixed: directFixed.out,
      });
      for (const rung of order) {
        const port = ports[rung.name];
        const latency = await fixed(port);
        const max = await runClosedLoop({
          open: plain(port),
          connections: CONNECTIONS,
          seconds,
          maxRequests: Number.MAX_SAFE_INTEGER,
        });
        const streamed = await stream(port);
        figures[rung.name] = {
          rps: max.rps,
          ttfbP50: streamed.ttfbP50,
          totalP50: streamed.totalP50,
          fixed: latency.out,
          errors: latency.errors + max.errors + streamed.errors,
        };
        log(
          `round ${r + 1}/${rounds} ${rung.name}: ` +
            rates.map((rate) => `p50 ${Math.round(latency.out[rate].p50)} µs at ${rate}/s, `)
              .join("") +
            `${Math.round(max.rps)} req/s, ` +
            `stream TTFB p50 ${Math.round(streamed.ttfbP50)} µs`,
        );
      }
      run.rounds.push(figures);
    }
    console.log(renderLadder(run));
    return 0;
  });
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`[ladder] failed: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}

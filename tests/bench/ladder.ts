/**
 * `deno task bench:ladder`: where the gap between the passthrough and Switchyard comes from. The
 * passthrough, then one rung per router duty (router_floor.ts, each rung adding one duty to the
 * one before), then Switchyard (tracing off) without and with its spend store, measured interleaved over rounds: max throughput at
 * 32 connections and sequential 20-chunk streams, against the same mock. The last rung is what
 * any Deno router doing Switchyard's job pays; the step from it to Switchyard is Switchyard's own.
 *
 *   deno task bench:ladder                     3 rounds, 3 s throughput phases, 200 streams
 *   deno task bench:ladder --rounds 1 --seconds 1 --streams 20     a quick look
 */
import { parseArgs } from "node:util";
import { runClosedLoop } from "./closed_loop.ts";
import { clientFactory } from "./http_client.ts";
import type { Server } from "./processes.ts";
import { checkTarget, PLAIN_BODY, STREAM_BODY } from "./rounds.ts";
import { median } from "./stats.ts";
import { runStreaming } from "./streaming.ts";
import { makeRunDir, startHelper, startSwitchyard } from "./targets.ts";
import { DUTIES, DUTY_DESCRIPTIONS } from "./router_floor.ts";

const PATH = "/v1/chat/completions";
const CONNECTIONS = 32;
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

/** One round's figures for one rung. */
export interface RungFigures {
  rps: number;
  ttfbP50: number;
  totalP50: number;
  errors: number;
}

/** The figures of a whole run, per round and rung; direct is the mock alone (streams only). */
export interface LadderRun {
  rounds: Record<string, RungFigures>[];
  direct: { ttfbP50: number; totalP50: number }[];
}

const fmt = (x: number, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "—";

/** The ladder's markdown table: medians across rounds, each as a share or multiple of the floor. */
export function renderLadder(run: LadderRun): string {
  const med = (rung: string, key: keyof RungFigures) =>
    median(run.rounds.map((r) => r[rung]?.[key] ?? NaN));
  const directTtfb = median(run.direct.map((d) => d.ttfbP50));
  const directTotal = median(run.direct.map((d) => d.totalP50));
  const floorRps = med("passthrough", "rps");
  const floorTtfb = med("passthrough", "ttfbP50") - directTtfb;
  const floorTotal = med("passthrough", "totalP50") - directTotal;
  const lines = [
    "| rung | adds | max req/s | × floor | stream TTFB added p50 | × floor | stream total added p50 | × floor |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const rung of RUNGS) {
    const rps = med(rung.name, "rps");
    const ttfb = med(rung.name, "ttfbP50") - directTtfb;
    const total = med(rung.name, "totalP50") - directTotal;
    const errors = run.rounds.reduce((n, r) => n + (r[rung.name]?.errors ?? 0), 0);
    lines.push(
      `| ${rung.name} | ${rung.adds}${errors ? ` (**${errors} errors**)` : ""} | ${fmt(rps)} | ` +
        `${fmt(rps / floorRps, 2)} | ${fmt(ttfb)} µs | ${fmt(ttfb / floorTtfb, 2)} | ` +
        `${fmt(total)} µs | ${fmt(total / floorTotal, 2)} |`,
    );
  }
  return lines.join("\n");
}

const log = (line: string) => console.error(`[ladder] ${line}`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "3" },
      streams: { type: "string", default: "200" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno task bench:ladder [--rounds 3] [--seconds 3] [--streams 200]\n\nRungs:\n" +
        RUNGS.map((r) => `  ${r.name.padEnd(12)} ${r.adds}`).join("\n"),
    );
    return 0;
  }
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const streams = Number(values.streams);
  if (![rounds, seconds, streams].every((n) => Number.isFinite(n) && n > 0)) {
    console.error("--rounds, --seconds and --streams must be positive numbers");
    return 2;
  }
  const servers: Server[] = [];
  const runDir = await makeRunDir();
  try {
    const mock = await startHelper("mock", "mock.ts");
    servers.push(mock);
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
      await checkTarget(rung.name, server.port);
    }
    const run: LadderRun = { rounds: [], direct: [] };
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
      run.direct.push({ ttfbP50: direct.ttfbP50, totalP50: direct.totalP50 });
      for (const rung of order) {
        const port = ports[rung.name];
        const max = await runClosedLoop({
          open: clientFactory("tcp", { port, path: PATH, body: PLAIN_BODY }),
          connections: CONNECTIONS,
          seconds,
          maxRequests: Number.MAX_SAFE_INTEGER,
        });
        const streamed = await stream(port);
        figures[rung.name] = {
          rps: max.rps,
          ttfbP50: streamed.ttfbP50,
          totalP50: streamed.totalP50,
          errors: max.errors + streamed.errors,
        };
        log(
          `round ${r + 1}/${rounds} ${rung.name}: ${Math.round(max.rps)} req/s, ` +
            `stream TTFB p50 ${Math.round(streamed.ttfbP50)} µs`,
        );
      }
      run.rounds.push(figures);
    }
    console.log(renderLadder(run));
    return 0;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Deno.remove(runDir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`[ladder] failed: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}

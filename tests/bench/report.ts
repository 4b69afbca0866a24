/**
 * A run → markdown: a header saying what was measured where, one table per phase (medians across
 * rounds), the per-round spread of the key figures, memory, and issue 6's targets checked.
 */
import type { TargetName } from "./options.ts";
import type { RoundResult, RunResult } from "./results.ts";
import { goalRows } from "./goals.ts";
import { type Figure, latency, throughput, total } from "./summary.ts";

const us = (x: number) => Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–";
const times = (x: number) => Number.isFinite(x) ? `${x.toFixed(2)}×` : "–";
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
/** A table head; the first `text` columns are left-aligned, the rest (figures) right-aligned. */
const header = (cells: string[], text = 1) =>
  [row(cells), row(cells.map((_, i) => i < text ? "---" : "---:"))].join("\n");

/** Renders the whole report. */
export function renderReport(run: RunResult): string {
  const o = run.options;
  const targets = o.targets;
  const rounds = run.rounds;
  const out: string[] = [
    `## Switchyard load benchmark, ${run.startedAt}`,
    "",
    `Machine: ${run.machine.cores} cores (${run.machine.cpu}), load average ${
      run.machine.loadStart.toFixed(2)
    } at start and ${run.machine.loadEnd.toFixed(2)} at the end; Deno ${run.machine.deno}.`,
    `Switchyard: \`policies/bench.yaml\`, spend store \`${run.store}\` (the default), tracing off` +
    ` and on (OTLP to a local sink${otlpLine(run)}).`,
    `Run: ${o.rounds} round(s), target order rotated each round; fixed rates ${
      o.rates.join(" and ")
    } req/s for ${o.seconds} s after ${o.warmup} s warm-up (open loop, at most ${o.maxInFlight} in` +
    ` flight); ${o.connections} connections closed loop for ${o.seconds} s; ${o.streams} sequential` +
    ` streams of ${o.chunks} content chunks; ${
      o.contextBytes > 0
        ? `every request carries ~${o.contextBytes.toLocaleString("en-US")} bytes of context`
        : "the small chat request"
    }; client: ${o.client === "tcp" ? "raw HTTP/1.1 over kept-alive TCP" : "fetch"}.`,
    "Medians across rounds; latencies in µs. *Added* = target − direct (the mock alone) and" +
    " *× passthrough* = the target's added ÷ the passthrough's added, both per round before the" +
    " median.",
    "",
    header(["target", "what"], 2),
    ...targets.map((t) => row([t, run.targets[t] ?? ""])),
  ];
  for (const rate of o.phases.includes("fixed") ? o.rates : []) {
    const fixed: (k: "p50" | "p99") => Figure = (k) => (r, t) => r.fixed[rate]?.[t]?.[k];
    out.push("", `### Non-streaming at ${rate} req/s (open loop, from the intended send time)`, "");
    out.push(header([
      "target",
      "p50",
      "p99",
      "p50 added",
      "p99 added",
      "p50 × passthrough",
      "p99 × passthrough",
      "achieved/s",
      "queued",
      "dropped",
      "errors",
    ]));
    for (const t of targets) {
      const p50 = latency(rounds, fixed("p50"), t);
      const p99 = latency(rounds, fixed("p99"), t);
      const achieved = throughput(rounds, (r, x) => r.fixed[rate]?.[x]?.achieved, t);
      out.push(row([
        t,
        us(p50.value),
        us(p99.value),
        added(t, p50.added),
        added(t, p99.added),
        ratio(t, p50.vsPassthrough),
        ratio(t, p99.vsPassthrough),
        us(achieved.value),
        total(rounds, (r, x) => r.fixed[rate]?.[x]?.queued, t),
        total(rounds, (r, x) => r.fixed[rate]?.[x]?.dropped, t),
        total(rounds, (r, x) => r.fixed[rate]?.[x]?.errors, t),
      ]));
    }
  }
  const cpuRates = o.phases.includes("fixed")
    ? o.rates.filter((rate) =>
      rounds.some((r) => targets.some((t) => r.fixed[rate]?.[t]?.serverCpuUs !== undefined))
    )
    : [];
  if (cpuRates.length > 0) {
    out.push(
      "",
      "### Server CPU per request (user + system, every thread of the target's process)",
      "",
      "During each fixed-rate run, ÷ the requests scheduled. *direct* is the mock's own process;" +
        " the other targets' figures leave out the mock they call.",
      "",
    );
    out.push(
      header(["target", ...cpuRates.flatMap((rate) => [`at ${rate}/s`, "× passthrough"])]),
    );
    for (const t of targets) {
      out.push(row([
        t,
        ...cpuRates.flatMap((rate) => {
          const cpu = throughput(rounds, (r, x) => r.fixed[rate]?.[x]?.serverCpuUs, t);
          return [`${us(cpu.value)} µs`, times(cpu.vsPassthrough)];
        }),
      ]));
    }
  }
  if (o.phases.includes("max")) {
    out.push("", `### Max throughput, ${o.connections} connections (closed loop)`, "");
    out.push(header(["target", "req/s", "× direct", "× passthrough", "errors"]));
    for (const t of targets) {
      const s = throughput(rounds, (r, x) => r.max[x]?.rps, t);
      const errors = total(rounds, (r, x) => r.max[x]?.errors, t);
      out.push(row([t, us(s.value), times(s.vsDirect), times(s.vsPassthrough), errors]));
    }
  }
  if (o.phases.includes("stream")) {
    for (
      const [label, p50, p99] of [
        ["time to first byte", "ttfbP50", "ttfbP99"],
        ["time to first content", "ttfcP50", "ttfcP99"],
        ["total", "totalP50", "totalP99"],
      ] as const
    ) {
      // Runs saved before time to first content was measured have none.
      if (!rounds.some((r) => targets.some((t) => r.stream[t]?.[p50] !== undefined))) continue;
      out.push("", `### Streaming, ${label} (${o.streams} sequential streams)`, "");
      out.push(
        header([
          "target",
          "p50",
          "p99",
          "p50 added",
          "p99 added",
          "p50 × passthrough",
          "p99 × passthrough",
          "errors",
        ]),
      );
      for (const t of targets) {
        const a = latency(rounds, (r, x) => r.stream[x]?.[p50], t);
        const b = latency(rounds, (r, x) => r.stream[x]?.[p99], t);
        const errors = total(rounds, (r, x) => r.stream[x]?.errors, t);
        out.push(
          row([
            t,
            us(a.value),
            us(b.value),
            added(t, a.added),
            added(t, b.added),
            ratio(t, a.vsPassthrough),
            ratio(t, b.vsPassthrough),
            errors,
          ]),
        );
      }
    }
  }
  if (run.memory.length > 0) {
    const [first, second] = o.memoryRequests;
    out.push("", `### Memory (fresh process, ${o.connections} connections closed loop)`, "");
    out.push(
      header([
        "target",
        "RSS at start",
        `RSS after ${first}`,
        `RSS after ${second}`,
        "growth",
        "seconds",
        "errors",
      ]),
    );
    for (const m of run.memory) {
      if (m.failure) {
        out.push(row([m.target, `failed: ${m.failure}`, "–", "–", "–", "–", "–"]));
        continue;
      }
      const [a, b] = m.checkpoints;
      out.push(
        row([
          m.target,
          mib(m.startRssKiB),
          a ? mib(a.rssKiB) : "–",
          b ? mib(b.rssKiB) : "–",
          a && b ? `${((b.rssKiB / a.rssKiB - 1) * 100).toFixed(1)}%` : "–",
          m.seconds.toFixed(1),
          m.errors,
        ]),
      );
    }
  }
  out.push(...tracingLikeForLike(run));
  if (rounds.length > 1) out.push(...spread(run));
  const goals = goalRows(run);
  if (goals.length > 0) {
    out.push("", "### Issue 6 targets", "", header(["target", "figure", "limit", "met"], 1));
    const met = (m: boolean | undefined) => m === undefined ? "– (noise)" : m ? "yes" : "**no**";
    out.push(...goals.map((g) => row([g.goal, g.figure, g.limit, met(g.met)])));
  }
  return out.join("\n") + "\n";
}

const added = (t: TargetName, x: number) => t === "direct" ? "–" : us(x);
const ratio = (t: TargetName, x: number) => t === "direct" ? "–" : times(x);

function otlpLine(run: RunResult): string {
  const traces = run.otlp?.traces;
  if (!run.options.targets.includes("switchyard-otel")) return ", not run";
  return traces
    ? `: ${traces.exports} trace exports, ${(traces.bytes / 1024).toFixed(0)} KiB`
    : ": **no trace exports arrived**";
}

/**
 * Switchyard with tracing on against the passthrough with tracing on: what Switchyard's tracing
 * adds beyond what Deno's own instrumentation costs any proxy. Only when both ran.
 */
function tracingLikeForLike(run: RunResult): string[] {
  const o = run.options;
  const twin = "passthrough-otel";
  const target = "switchyard-otel";
  if (!o.targets.includes(twin) || !o.targets.includes(target)) return [];
  const rows: string[] = [];
  const lat = (name: string, figure: Figure) => {
    const floor = latency(run.rounds, figure, twin);
    const mine = latency(run.rounds, figure, target, twin);
    rows.push(row([name, us(floor.added), us(mine.added), times(mine.vsPassthrough)]));
  };
  const thr = (name: string, figure: Figure, unit: string) => {
    const floor = throughput(run.rounds, figure, twin);
    const mine = throughput(run.rounds, figure, target, twin);
    rows.push(
      row([name, us(floor.value) + unit, us(mine.value) + unit, times(mine.vsPassthrough)]),
    );
  };
  if (o.phases.includes("fixed")) {
    for (const rate of o.rates) {
      lat(`p50 added at ${rate} req/s`, (r, t) => r.fixed[rate]?.[t]?.p50);
      lat(`p99 added at ${rate} req/s`, (r, t) => r.fixed[rate]?.[t]?.p99);
    }
    for (const rate of o.rates) {
      if (run.rounds.some((r) => r.fixed[rate]?.[target]?.serverCpuUs !== undefined)) {
        thr(
          `server CPU per request at ${rate} req/s`,
          (r, t) => r.fixed[rate]?.[t]?.serverCpuUs,
          " µs",
        );
      }
    }
  }
  if (o.phases.includes("max")) thr("max throughput", (r, t) => r.max[t]?.rps, " r/s");
  if (o.phases.includes("stream")) {
    lat("stream time to first byte, p50 added", (r, t) => r.stream[t]?.ttfbP50);
    lat("stream total, p50 added", (r, t) => r.stream[t]?.totalP50);
  }
  return [
    "",
    "### Tracing on, like for like (switchyard-otel ÷ passthrough-otel)",
    "",
    "Both export to the same local sink. passthrough-otel is the bare proxy with Deno's own" +
    " tracing (its server and fetch spans and their export); the ratio is what Switchyard costs" +
    " beyond it with tracing on, its own spans and metrics included.",
    "",
    header(["figure", twin, target, "÷ passthrough-otel"]),
    ...rows,
  ];
}

/** Per-round values of the key figures, to show how much the rounds agree. */
function spread(run: RunResult): string[] {
  const o = run.options;
  const metrics: [string, Figure][] = [];
  if (o.phases.includes("fixed")) {
    for (const rate of o.rates) {
      metrics.push([`${rate}/s p50`, (r, t) => r.fixed[rate]?.[t]?.p50]);
      metrics.push([`${rate}/s p99`, (r, t) => r.fixed[rate]?.[t]?.p99]);
    }
  }
  if (o.phases.includes("max")) metrics.push(["max req/s", (r, t) => r.max[t]?.rps]);
  if (o.phases.includes("stream")) {
    metrics.push(["stream TTFB p50", (r, t) => r.stream[t]?.ttfbP50]);
    metrics.push(["stream total p50", (r, t) => r.stream[t]?.totalP50]);
  }
  if (metrics.length === 0) return [];
  const cell = (figure: Figure, t: TargetName) =>
    run.rounds.map((r: RoundResult) => us(figure(r, t) ?? NaN)).join(" / ");
  return [
    "",
    `### Per round (${run.rounds.map((r) => r.round).join(" / ")}), to show the spread`,
    "",
    header(["figure", ...o.targets]),
    ...metrics.map(([name, figure]) => row([name, ...o.targets.map((t) => cell(figure, t))])),
  ];
}

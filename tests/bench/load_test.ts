import assert from "node:assert/strict";
import type { RunResult } from "./results.ts";
import { TARGETS } from "./options.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The permissions `deno task bench:load` runs with: the benchmark must work with no more. */
const PERMISSIONS = [
  "--allow-net=127.0.0.1",
  "--allow-read=deno.json,policies,tests/bench/ticker.ts,tests/bench/results",
  "--allow-write=.tmp,tests/bench/results",
  "--allow-run=deno,ps,cat",
  "--allow-env=BENCH_*,PATH,HOME,DENO_DIR,XDG_CACHE_HOME",
  "--allow-sys=loadavg,cpus",
];

async function alive(pid: number): Promise<boolean> {
  const { success } = await new Deno.Command("ps", { args: ["-p", String(pid)], stdout: "null" })
    .output();
  return success;
}

Deno.test("load benchmark: a tiny quick run measures every target in every phase and cleans up", async () => {
  // Inside the (git-ignored) results folder, so the run needs no permission beyond the task's.
  const out = `tests/bench/results/load-test-${crypto.randomUUID()}`;
  try {
    const { code, stdout, stderr } = await new Deno.Command("deno", {
      args: [
        "run",
        ...PERMISSIONS,
        "tests/bench/load.ts",
        "--quick",
        "--seconds=1",
        "--warmup=0.2",
        "--rates=200,500",
        "--streams=10",
        "--stream-warmup=2",
        "--phases=fixed,max,stream,memory",
        "--memory-requests=200,1000",
        `--targets=${TARGETS.join(",")}`,
        `--out=${out}`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const report = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));

    const sections = report.split(/^### /m).slice(1);
    const table = (title: string) => {
      const section = sections.find((s) => s.startsWith(title));
      assert.ok(section, `no "${title}" table in:\n${report}`);
      return section;
    };
    for (
      const title of [
        "Non-streaming at 200 req/s",
        "Non-streaming at 500 req/s",
        "Max throughput",
        "Streaming, time to first byte",
        "Streaming, time to first content",
        "Streaming, total",
      ]
    ) {
      const section = table(title);
      for (const target of TARGETS) assert.match(section, new RegExp(`^\\| ${target} \\|`, "m"));
    }
    if (Deno.build.os === "linux") {
      const cpu = table("Server CPU per request");
      for (const target of TARGETS) {
        assert.match(cpu, new RegExp(`^\\| ${target} \\| [\\d,]+ µs \\|`, "m"));
      }
    }
    // With both tracing-on targets in the run, Switchyard's tracing is also set against the
    // bare proxy's.
    const like = table("Tracing on, like for like");
    for (const figure of ["p50 added at 200 req/s", "max throughput", "stream total, p50 added"]) {
      assert.match(
        like,
        new RegExp(`^\\| ${figure} \\| [\\d,]+( r/s)? \\| [\\d,]+( r/s)? \\| [\\d.]+× \\|$`, "m"),
      );
    }
    const memory = table("Memory");
    assert.match(memory, /^\| switchyard \| [\d.]+ MiB \|/m);
    assert.match(memory, /^\| switchyard-otel \| [\d.]+ MiB \|/m);
    assert.match(report, /spend store `[^`]+`/);
    assert.match(report, /\d+ trace exports/, "the tracing-on target exported nothing");

    const files = [...Deno.readDirSync(`${ROOT}/${out}`)].map((e) => e.name);
    assert.equal(files.length, 1);
    const run: RunResult = JSON.parse(await Deno.readTextFile(`${ROOT}/${out}/${files[0]}`));
    const round = run.rounds[0];
    for (const target of TARGETS) {
      for (const rate of ["200", "500"]) {
        const fixed = round.fixed[rate][target]!;
        assert.ok(fixed.p50 > 0 && fixed.p99 >= fixed.p50, `${target} at ${rate}/s`);
        assert.equal(fixed.errors + fixed.dropped, 0, `${target} at ${rate}/s`);
        if (Deno.build.os === "linux") {
          // A server spends CPU on every request: tens of µs at least, never nothing.
          assert.ok(fixed.serverCpuUs! > 10, `${target} at ${rate}/s: CPU ${fixed.serverCpuUs}`);
        }
      }
      assert.ok(round.max[target]!.rps > 0, `${target} max`);
      assert.equal(round.max[target]!.errors, 0, `${target} max`);
      assert.equal(round.stream[target]!.streams, 10, `${target} streams`);
      const stream = round.stream[target]!;
      assert.ok(stream.ttfbP50 <= stream.ttfcP50! && stream.ttfcP50! <= stream.totalP50);
    }
    assert.deepEqual(run.memory.map((m) => m.checkpoints.map((c) => c.requests)), [
      [200, 1000],
      [200, 1000],
    ]);
    // The JSON holds everything the tables are made of.
    const again = await new Deno.Command("deno", {
      args: ["run", ...PERMISSIONS, "tests/bench/load.ts", `--report=${out}/${files[0]}`],
      cwd: ROOT,
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(again.stdout), report);
    for (const { name, pid } of run.processes) {
      assert.equal(await alive(pid), false, `${name} (pid ${pid}) is still running`);
    }
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});

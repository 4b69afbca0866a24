/**
 * `deno task bench:load`: Switchyard against a bare Deno proxy, side by side, in one run. Starts
 * on 127.0.0.1 a mock upstream, an OTLP sink, the passthrough, and Switchyard with tracing off
 * and on; checks each serves a request and a stream; measures them interleaved (rounds.ts);
 * optionally measures memory on fresh Switchyard processes; writes every raw figure to
 * `<out>/<timestamp>.json`; prints markdown tables; and stops every process it started.
 *
 *   deno task bench:load            full run (3 rounds, 5 s phases, memory): a few minutes
 *   deno task bench:load --quick    1 round, 2 s phases, no memory: under a minute
 *   deno task bench:load --report tests/bench/results/<file>.json    an earlier run's tables
 *   deno task bench:load --help     every option
 */
import { cpus } from "node:os";
import { OptionsError, parseOptions, type TargetName, USAGE } from "./options.ts";
import type { Server } from "./processes.ts";
import { renderReport } from "./report.ts";
import type { MemoryResult, PerTarget, RunResult } from "./results.ts";
import { checkTarget, runMemory, runRounds } from "./rounds.ts";
import { defaultStore, ROOT, startHelper, startSwitchyard, withRunScope } from "./targets.ts";
import type { SinkStats } from "./otlp_sink.ts";
import type { Options } from "./options.ts";

const DESCRIPTIONS: Record<TargetName, string> = {
  direct: "the mock upstream alone: the baseline every *added* figure is relative to",
  passthrough: "bare Deno proxy: Deno.serve, read body, JSON.parse, fetch the mock, stream back",
  "passthrough-http1": "the same proxy on Switchyard's own HTTP/1.1 client instead of fetch",
  "passthrough-otel": "the passthrough with OTEL_DENO=true, exporting OTLP/HTTP to the same sink",
  switchyard: "Switchyard on policies/bench.yaml, tracing off (OTEL_DENO unset)",
  "switchyard-otel": "the same with OTEL_DENO=true, exporting OTLP/HTTP to a local sink",
};

const log = (line: string) => console.error(`[bench] ${line}`);

/** The 1-minute load average. */
const loadAverage = () => Deno.loadavg()[0];

/** Starts everything the options ask for; each started server is pushed onto `servers`. */
async function startTargets(options: Options, servers: Server[], runDir: string) {
  const track = (server: Server) => (servers.push(server), server);
  const wants = (t: TargetName) => options.targets.includes(t);
  const otel = wants("switchyard-otel") || wants("passthrough-otel");
  const mock = track(await startHelper("mock", "mock.ts", ["--chunks", String(options.chunks)]));
  const upstream = `http://127.0.0.1:${mock.port}`;
  const sink = otel ? track(await startHelper("otlp-sink", "otlp_sink.ts")) : undefined;
  const otlpEndpoint = sink ? `http://127.0.0.1:${sink.port}` : undefined;
  const started = await Promise.allSettled([
    wants("passthrough")
      ? startHelper("passthrough", "passthrough.ts", ["--upstream", upstream]).then(track)
      : undefined,
    wants("passthrough-http1")
      ? startHelper("passthrough-http1", "passthrough.ts", [
        "--upstream",
        upstream,
        "--client",
        "http1",
      ]).then(track)
      : undefined,
    wants("passthrough-otel")
      ? startHelper("passthrough-otel", "passthrough.ts", ["--upstream", upstream], [], {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint!,
        OTEL_SERVICE_NAME: "passthrough",
      }).then(track)
      : undefined,
    wants("switchyard")
      ? startSwitchyard({ name: "switchyard", runDir, upstream }).then(track)
      : undefined,
    wants("switchyard-otel")
      ? startSwitchyard({ name: "switchyard-otel", runDir, upstream, otlpEndpoint }).then(track)
      : undefined,
  ]);
  for (const s of started) if (s.status === "rejected") throw s.reason;
  const [passthrough, passthroughHttp1, passthroughOtel, switchyard, switchyardOtel] = started.map((
    s,
  ) => s.status === "fulfilled" ? s.value : undefined);
  const ports: PerTarget<number> = {
    direct: mock.port,
    passthrough: passthrough?.port,
    "passthrough-http1": passthroughHttp1?.port,
    "passthrough-otel": passthroughOtel?.port,
    switchyard: switchyard?.port,
    "switchyard-otel": switchyardOtel?.port,
  };
  const pids: PerTarget<number> = {
    direct: mock.pid,
    passthrough: passthrough?.pid,
    "passthrough-http1": passthroughHttp1?.pid,
    "passthrough-otel": passthroughOtel?.pid,
    switchyard: switchyard?.pid,
    "switchyard-otel": switchyardOtel?.pid,
  };
  return { upstream, sink, otlpEndpoint, ports, pids };
}

/**
 * The memory phase on a fresh process. A failure here (the process would not start, or died) is
 * reported in the table rather than thrown, so the rounds already measured are not lost.
 */
async function memoryOf(
  target: TargetName,
  run: {
    runDir: string;
    upstream: string;
    otlpEndpoint?: string;
    options: Options;
    servers: Server[];
  },
): Promise<MemoryResult> {
  let server: Server | undefined;
  try {
    server = await startSwitchyard({
      name: target,
      runDir: run.runDir,
      upstream: run.upstream,
      otlpEndpoint: target === "switchyard-otel" ? run.otlpEndpoint : undefined,
    });
    run.servers.push(server);
    return await runMemory(target, server, run.options, log);
  } catch (error) {
    const failure = error instanceof Error ? error.message.split("\n")[0] : String(error);
    log(`memory ${target} failed: ${error instanceof Error ? error.message : error}`);
    return { target, startRssKiB: NaN, checkpoints: [], errors: 0, seconds: 0, failure };
  } finally {
    await server?.stop();
  }
}

async function main(): Promise<number> {
  let command;
  try {
    command = parseOptions(Deno.args);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  if (command.kind === "report") {
    const run: RunResult = JSON.parse(await Deno.readTextFile(command.file));
    console.log(renderReport(run));
    return 0;
  }
  const options = command.options;
  const startedAt = new Date();
  const loadStart = loadAverage();
  return await withRunScope(log, async ({ servers, runDir }) => {
    log(`load average ${loadStart} at start; starting servers`);
    const { upstream, sink, otlpEndpoint, ports, pids } = await startTargets(
      options,
      servers,
      runDir,
    );
    for (const t of options.targets) await checkTarget(t, ports[t]!, options.contextBytes);
    log(`targets ready: ${options.targets.map((t) => `${t} :${ports[t]}`).join(", ")}`);
    const rounds = await runRounds(options, ports, log, pids);

    const memory: MemoryResult[] = [];
    if (options.phases.includes("memory")) {
      // Fresh processes, so request counts are counted from start-up; the round targets go first
      // so they cost nothing while memory is measured.
      for (const server of servers.filter((s) => s.name.startsWith("switchyard"))) {
        await server.stop();
      }
      for (const t of options.targets.filter((t) => t.startsWith("switchyard"))) {
        memory.push(await memoryOf(t, { runDir, upstream, otlpEndpoint, options, servers }));
      }
    }
    const otlp = sink
      ? await (await fetch(`http://127.0.0.1:${sink.port}/stats`)).json() as SinkStats
      : undefined;
    const run: RunResult = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        cores: navigator.hardwareConcurrency,
        cpu: cpus()[0]?.model ?? "unknown CPU",
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        loadStart,
        loadEnd: loadAverage(),
      },
      options,
      store: defaultStore(),
      targets: Object.fromEntries(options.targets.map((t) => [t, DESCRIPTIONS[t]])),
      otlp,
      processes: servers.map((s) => ({ name: s.name, pid: s.pid })),
      rounds,
      memory,
    };
    const out = options.out.startsWith("/") ? options.out : `${ROOT}/${options.out}`;
    await Deno.mkdir(out, { recursive: true });
    const file = `${out}/${run.startedAt.replace(/[:.]/g, "-")}.json`;
    await Deno.writeTextFile(file, JSON.stringify(run, null, 2) + "\n");
    console.log(renderReport(run));
    log(`raw figures: ${file}`);
    return 0;
  });
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`[bench] failed: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}

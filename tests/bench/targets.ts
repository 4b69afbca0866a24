/**
 * The servers a run measures, started on 127.0.0.1 port 0: the mock upstream (the `direct`
 * target), the OTLP sink, the bare passthrough, and Switchyard with tracing off and on. Switchyard
 * is started as `deno task serve` starts it (that task's permissions and environment, read from
 * deno.json so the two cannot drift), but with OTEL_DENO unset for the tracing-off target, and each
 * process in its own scratch working directory holding a copy of policies/, so its default spend
 * store starts empty, is its own, and the developer's `.switchyard/` is left alone.
 */
import { loadConfig } from "../../src/config.ts";
import type { TargetName } from "./options.ts";
import { type Server, startServer } from "./processes.ts";

/** The repository root (this file is tests/bench/targets.ts). */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Variables a child `deno` needs to find its cache; everything else is cleared. */
const INHERITED = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"];

/** How `deno task serve` runs Switchyard: its environment and `deno run` flags. */
export interface ServeCommand {
  env: Record<string, string>;
  flags: string[];
}

/** Reads the `serve` task from deno.json: `VAR=value … deno run <flags> src/cli.ts serve`. */
export async function serveCommand(): Promise<ServeCommand> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const task: unknown = config.tasks?.serve;
  if (typeof task !== "string") throw new Error("deno.json has no `serve` task");
  const tokens = task.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < tokens.length && /^[A-Z_][A-Z0-9_]*=/.test(tokens[i]); i++) {
    const [name, ...value] = tokens[i].split("=");
    env[name] = value.join("=");
  }
  const end = tokens.indexOf("src/cli.ts");
  if (tokens[i] !== "deno" || tokens[i + 1] !== "run" || end === -1) {
    throw new Error(`Unexpected serve task: ${task}`);
  }
  return { env, flags: tokens.slice(i + 2, end) };
}

/** The spend store Switchyard uses with no --store flag and a cleared environment. */
export function defaultStore(): string {
  return loadConfig(["--policy", "policies/bench.yaml"], () => undefined).store;
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** A scratch directory under .tmp/ for one run. */
async function makeRunDir(): Promise<string> {
  await Deno.mkdir(`${ROOT}/.tmp`, { recursive: true });
  return await Deno.makeTempDir({ dir: `${ROOT}/.tmp`, prefix: "bench-" });
}

/** What a benchmark run holds: the servers it started (it pushes each one) and its scratch dir. */
export interface RunScope {
  servers: Server[];
  runDir: string;
}

/** Signals that stop a run early, after stopping every server it started. */
const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * Runs `body` with a fresh scratch directory. When it ends, every server it pushed onto `servers`
 * is stopped and the directory removed; the same happens first on SIGINT/SIGTERM (exit 130) and
 * on an error that escapes every await (exit 1), so no run leaves a process behind.
 */
export async function withRunScope<T>(
  log: (line: string) => void,
  body: (scope: RunScope) => Promise<T>,
): Promise<T> {
  const scope: RunScope = { servers: [], runDir: await makeRunDir() };
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    cleaned ??= Promise.all(scope.servers.map((s) => s.stop())).then(() =>
      Deno.remove(scope.runDir, { recursive: true })
    );
  const interrupted = () => {
    log("interrupted: stopping every server");
    cleanup().finally(() => Deno.exit(130));
  };
  const escaped = (event: PromiseRejectionEvent | ErrorEvent) => {
    event.preventDefault();
    const error = "reason" in event ? event.reason : event.error;
    log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
    cleanup().finally(() => Deno.exit(1));
  };
  for (const signal of SIGNALS) Deno.addSignalListener(signal, interrupted);
  addEventListener("unhandledrejection", escaped);
  addEventListener("error", escaped);
  try {
    return await body(scope);
  } finally {
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, interrupted);
    removeEventListener("unhandledrejection", escaped);
    removeEventListener("error", escaped);
    await cleanup();
  }
}

/**
 * A fresh working directory for one Switchyard process, holding a copy of policies/: each process
 * gets its own default spend store (a local store serves one process).
 */
async function makeWorkdir(runDir: string, name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ dir: runDir, prefix: `${name}-` });
  await Deno.mkdir(`${dir}/policies`);
  for await (const entry of Deno.readDir(`${ROOT}/policies`)) {
    if (entry.isFile) {
      await Deno.copyFile(`${ROOT}/policies/${entry.name}`, `${dir}/policies/${entry.name}`);
    }
  }
  return dir;
}

/** Starts one of the benchmark's own servers (mock, passthrough, sink). */
export function startHelper(
  name: string,
  file: string,
  args: string[] = [],
  denoFlags: string[] = [],
  env: Record<string, string> = {},
): Promise<Server> {
  return startServer({
    name,
    args: ["run", "--allow-net=127.0.0.1", ...denoFlags, `${ROOT}/tests/bench/${file}`, ...args],
    env: { ...inheritedEnv(), ...env },
  });
}

/** Starts Switchyard on the bench policy, routing to `upstream`, tracing off or on. */
export async function startSwitchyard(options: {
  name: TargetName;
  /** The run's scratch directory; this process gets a fresh working directory inside it. */
  runDir: string;
  upstream: string;
  otlpEndpoint?: string;
  /** More `serve` flags (the ladder's `--store none` rung). */
  serveArgs?: string[];
}): Promise<Server> {
  const serve = await serveCommand();
  const workdir = await makeWorkdir(options.runDir, options.name);
  const env: Record<string, string> = { ...inheritedEnv(), ...serve.env };
  delete env.OTEL_DENO;
  env.BENCH_UPSTREAM_URL = `${options.upstream}/v1`;
  if (options.otlpEndpoint) {
    env.OTEL_DENO = "true";
    env.OTEL_EXPORTER_OTLP_ENDPOINT = options.otlpEndpoint;
  }
  const server = await startServer({
    name: options.name,
    args: [
      "run",
      ...serve.flags,
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/src/cli.ts`,
      "serve",
      "--policy",
      "policies/bench.yaml",
      "--port",
      "0",
      "--no-watch",
      ...options.serveArgs ?? [],
    ],
    env,
    cwd: workdir,
  });
  // The banner lists each route; one Switchyard could not reach would be simulated, and the run
  // would measure the simulator.
  try {
    await server.waitFor(/^telemetry /, 5_000);
    if (!server.output().includes(`live → ${options.upstream}/v1`)) {
      throw new Error(`${options.name} does not route to the mock`);
    }
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\n${server.output()}`);
  }
  return server;
}

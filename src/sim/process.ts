/**
 * The simulators as separate processes, one per simulated service, as `deno task serve` runs them:
 * each has its own `service.name` in traces (`simulated-openai`, `simulated-openrouter`, …), so a
 * trace shows router → gateway → provider as the separate hops they are in production.
 *
 * Child side: `switchyard sim --provider P [--upstreams JSON] [--latency-scale X]` starts one
 * simulator, prints `{"origin": …}` on stdout, and exits when its stdin closes (the parent died)
 * or on SIGTERM. Parent side: `spawnFleet()` starts them all and returns their base URLs.
 */
import { parseArgs } from "node:util";
import type { ProviderName } from "../upstream/adapter.ts";
import {
  BASE_PATHS,
  FACTORIES,
  FLEET_LATENCY,
  gatewayProviders,
  SIMULATED_PROVIDERS,
  type SimulatedProvider,
} from "./fleet.ts";
import { createOpenRouterSimulator } from "./openrouter.ts";
import { startSimulator } from "./server.ts";

/** A running set of simulators, however they run. */
export interface SimulatorFleet {
  readonly baseUrls: Record<ProviderName, string>;
  close(): Promise<void>;
}

function scaled(provider: SimulatedProvider, scale: number) {
  const base = FLEET_LATENCY[provider];
  return { ...base, ttft_ms: base.ttft_ms * scale, tokens_per_s: base.tokens_per_s / scale };
}

/** Child side: runs one simulator until stdin closes. Returns the exit code. */
export async function runSimulatorProcess(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      provider: { type: "string" },
      upstreams: { type: "string" },
      "latency-scale": { type: "string" },
    },
  });
  const provider = values.provider as SimulatedProvider;
  if (!SIMULATED_PROVIDERS.includes(provider)) {
    console.error(`--provider must be one of ${SIMULATED_PROVIDERS.join(", ")}`);
    return 64;
  }
  const scale = Number(values["latency-scale"] ?? 1);
  const latency = scaled(provider, Number.isFinite(scale) && scale > 0 ? scale : 1);
  let sim;
  if (provider === "openrouter") {
    const upstreams = JSON.parse(values.upstreams ?? "{}") as Record<SimulatedProvider, string>;
    const gateway = createOpenRouterSimulator({
      processingMs: [15 * scale, 40 * scale],
      providers: gatewayProviders(upstreams, {}),
    });
    sim = await startSimulator(gateway, { latency });
  } else {
    sim = await startSimulator(FACTORIES[provider], { latency });
  }
  console.log(JSON.stringify({ origin: sim.origin }));
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", () => stop.resolve());
  (async () => {
    // Reading stdin to its end: EOF means the parent is gone.
    for await (const _ of Deno.stdin.readable) { /* ignore input */ }
    stop.resolve();
  })();
  await stop.promise;
  await sim.close();
  return 0;
}

/** Parent side: starts every simulator as a child process (providers first, then the gateway). */
export async function spawnFleet(options: {
  latencyScale: number;
  /** Where src/cli.ts is; the children run it. */
  cli: string;
}): Promise<SimulatorFleet> {
  const children: Deno.ChildProcess[] = [];
  const writers: WritableStreamDefaultWriter<Uint8Array>[] = [];
  const close = async () => {
    for (const writer of writers) await writer.close().catch(() => {});
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
    }
    await Promise.all(children.map((c) => c.status.catch(() => {})));
  };
  const start = async (provider: SimulatedProvider, upstreams?: Record<string, string>) => {
    const args = [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env=OTEL_*,LOG_TOKENS,LOG_STREAM",
      options.cli,
      "sim",
      "--provider",
      provider,
      "--latency-scale",
      String(options.latencyScale),
      ...(upstreams ? ["--upstreams", JSON.stringify(upstreams)] : []),
    ];
    const child = new Deno.Command("deno", {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { OTEL_SERVICE_NAME: `simulated-${provider}` },
    }).spawn();
    children.push(child);
    writers.push(child.stdin.getWriter());
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    while (!buffered.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`The ${provider} simulator exited before it listened`);
      buffered += value;
    }
    // Keep draining stdout so the child can never block on a full pipe.
    (async () => {
      while (!(await reader.read().catch(() => ({ done: true }))).done) { /* discard */ }
    })();
    return JSON.parse(buffered.split("\n")[0]).origin as string;
  };
  try {
    const providers = SIMULATED_PROVIDERS.filter((p) => p !== "openrouter");
    const origins = await Promise.all(providers.map((p) => start(p)));
    const baseUrls = {} as Record<ProviderName, string>;
    providers.forEach((p, i) => baseUrls[p] = origins[i] + BASE_PATHS[p]);
    const gateway = await start("openrouter", { ...baseUrls });
    baseUrls.openrouter = gateway + BASE_PATHS.openrouter;
    baseUrls["openai-compatible"] = baseUrls.openai;
    return { baseUrls, close };
  } catch (error) {
    await close();
    throw error;
  }
}

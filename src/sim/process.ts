/**
 * The simulators as separate processes, one per simulated service, as `deno task serve` runs them:
 * each has its own `service.name` in traces (`simulated-openai`, `simulated-openrouter`, …), so a
 * trace shows router → gateway → provider as the separate hops they are in production.
 *
 * Child side: `switchyard sim --provider P [--upstreams JSON] [--latency-scale X]` starts one
 * simulator, prints `{"origin": …}` on stdout, and exits when its stdin closes (the parent died)
 * or on SIGTERM. The parent side, `spawnFleet()`, is spawn.ts.
 */
import { parseArgs } from "node:util";
import { FACTORIES, gatewayProviders } from "./fleet.ts";
import { FLEET_LATENCY, SIMULATED_PROVIDERS, type SimulatedProvider } from "./providers.ts";
import { createOpenRouterSimulator } from "./openrouter.ts";
import { startSimulator } from "./server.ts";

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

/**
 * The parent side of the simulator processes (the child side is process.ts): `spawnFleet()` starts
 * one `switchyard sim` child per simulated service, providers first, then the gateway wired to
 * them, and returns their base URLs. Kept apart from the simulators so that `serve` does not load
 * their code: it runs them, it never serves them, and every module it loads stays in its heap,
 * which each major garbage collection walks.
 */
import type { ProviderName } from "../upstream/adapter.ts";
import { BASE_PATHS, SIMULATED_PROVIDERS, type SimulatedProvider } from "./providers.ts";

/** A running set of simulators, however they run. */
export interface SimulatorFleet {
  readonly baseUrls: Record<ProviderName, string>;
  close(): Promise<void>;
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

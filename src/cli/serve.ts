/**
 * `serve`: loads the configuration and the policy, starts the simulated providers when a route
 * needs them, listens, prints a banner, and shuts down gracefully on SIGTERM/SIGINT: stop
 * accepting, /readyz 503, let in-flight requests and streams finish within the grace period,
 * exit 0.
 */
import { ConfigError, loadConfig } from "../config.ts";
import { loadPolicy, processEnv } from "../policy/load.ts";
import { formatProblem, PolicyError } from "../policy/problems.ts";
import { needsSimulators } from "../routing/runtime.ts";
import { createApp } from "../server/app.ts";
import { type SimulatorFleet, spawnFleet } from "../sim/spawn.ts";
import { EXIT, UsageError } from "./exit.ts";
import type { ActivePolicy } from "../routing/runtime.ts";
import type { UpstreamClient } from "../upstream/transport.ts";

/** Where telemetry goes, from the standard OTEL_* variables. */
function telemetryLine(): string {
  if (processEnv("OTEL_DENO") !== "true") {
    return "off (set OTEL_DENO=true to export traces and metrics over OTLP)";
  }
  const endpoint = processEnv("OTEL_EXPORTER_OTLP_ENDPOINT") ?? "http://localhost:4318";
  const protocol = processEnv("OTEL_EXPORTER_OTLP_PROTOCOL") ?? "http/protobuf";
  const service = processEnv("OTEL_SERVICE_NAME") ?? "unknown_service:deno";
  return `OTLP ${protocol} → ${endpoint} as service "${service}"`;
}

/** The start-up banner: address, policy, each route live or simulated, upstream client, telemetry. */
export function banner(
  address: string,
  active: ActivePolicy,
  watching: boolean,
  upstreams: UpstreamClient["kind"],
): string {
  const p = active.policy;
  const routes = Object.values(active.routes);
  const width = Math.max(...routes.map((r) => r.route.name.length));
  const modelWidth = Math.max(...routes.map((r) => r.route.model.length));
  const lines = [
    `Switchyard listening on ${address}`,
    `policy     ${p.name} ${p.version} (${p.hash}) from ${p.file}${
      watching ? ", reloading on change" : ""
    }`,
    ...routes.map((r, i) => {
      const state = !r.available
        ? `UNAVAILABLE: ${r.unavailableReason}`
        : r.simulated
        ? "simulated (no API key set)"
        : `live → ${r.target.baseUrl}`;
      return `${i === 0 ? "routes" : "      "}     ${r.route.name.padEnd(width)}  ${
        r.route.via.padEnd(7)
      }  ${r.route.provider.padEnd(10)}  ${r.route.model.padEnd(modelWidth)}  ${state}`;
    }),
    `upstream   ${
      upstreams === "http1"
        ? "own HTTP/1.1 client, kept-alive connections"
        : "fetch (--upstream-client fetch, or a proxy variable is set)"
    }`,
    `telemetry  ${telemetryLine()}`,
  ];
  return lines.join("\n");
}

export async function serve(args: string[]): Promise<number> {
  let config;
  try {
    config = loadConfig(args);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const log = (line: string) => console.error(`[switchyard] ${line}`);

  let fleet: SimulatorFleet | undefined;
  try {
    const policy = await loadPolicy(config.policy, { requireEnv: true });
    if (needsSimulators([policy], { simulate: config.simulate, env: processEnv })) {
      fleet = await spawnFleet({
        latencyScale: config.simLatencyScale,
        cli: new URL("../cli.ts", import.meta.url).pathname,
      });
    }
    const app = await createApp({ config, simulators: fleet?.baseUrls, log });
    const server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        console.log(banner(
          `http://${host}:${port}`,
          app.context.policies.current,
          config.watch,
          app.context.upstreams.kind,
        ));
      },
    }, (request) => app.fetch(request));

    const stopped = Promise.withResolvers<void>();
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: draining (grace ${config.shutdownGraceMs} ms)`);
      app.drain();
      const grace = setTimeout(() => {
        log("grace period over; closing remaining connections");
        stopped.resolve();
      }, config.shutdownGraceMs);
      server.shutdown().then(() => {
        clearTimeout(grace);
        stopped.resolve();
      });
    };
    Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
    Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
    await stopped.promise;
    await app.close();
    await fleet?.close();
    log("stopped");
    return EXIT.OK;
  } catch (error) {
    await fleet?.close();
    if (error instanceof PolicyError) {
      console.error(
        `Cannot start: a configuration file is invalid.\n${
          error.problems.filter((p) => p.severity === "error").map(formatProblem).join("\n")
        }`,
      );
      return EXIT.INVALID;
    }
    throw error;
  }
}

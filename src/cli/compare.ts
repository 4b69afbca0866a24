/**
 * `compare`: the seed question — what does the gateway hop cost? — answered with a measurement.
 * The same requests go through a direct route and a gateway route for the same model, interleaved,
 * through a real Switchyard server (simulated providers unless keys are set), and the tool prints
 * latency percentiles, time to first token, the gateway's added latency, error rates, cost per 1K
 * tokens each way, and the trace ids of the median and slowest request to open in Jaeger.
 */
import { parseArgs } from "node:util";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { costOf } from "../budget/cost.ts";
import { loadPolicy, processEnv } from "../policy/load.ts";
import { PolicyError } from "../policy/problems.ts";
import type { Route } from "../policy/types.ts";
import { normalizeOpenAIUsage, type OpenAIUsage } from "../upstream/types.ts";
import { EXIT, UsageError } from "./exit.ts";

/** One measured request. */
interface Sample {
  ok: boolean;
  totalMs: number;
  ttftMs?: number;
  tokens: number;
  costUsd: number;
  traceId: string;
  error?: string;
}

/** The typed result (`--json` prints it as is). */
export interface CompareReport {
  policy: string;
  requests: number;
  concurrency: number;
  stream: boolean;
  promptTokens: number[];
  routes: RouteSummary[];
  gatewayAdded: {
    p50_ms: number;
    p95_ms: number;
    p99_ms: number;
    p50_pct: number;
    ttft_p50_ms?: number;
  };
}

interface RouteSummary {
  route: string;
  via: "direct" | "gateway";
  model: string;
  simulated: boolean;
  n: number;
  errors: number;
  error_rate: number;
  total_ms: { p50: number; p95: number; p99: number };
  ttft_ms?: { p50: number; p95: number; p99: number };
  usd_per_1k_tokens: number;
  median_trace_id: string;
  slowest_trace_id: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[i] * 100) / 100;
}

/** A prompt of about `tokens` tokens (one common word ≈ one token). */
function promptOf(tokens: number, seed: number): string {
  const words = ["route", "latency", "gateway", "provider", "budget", "policy", "trace", "model"];
  return Array.from({ length: tokens }, (_, i) => words[(i + seed) % words.length]).join(" ");
}

/** Keeps the two routes and pins requests to them by name. */
function comparisonPolicy(text: string, direct: string, gateway: string): string {
  const spec = parseYaml(text) as { routes: Record<string, unknown>; name: string };
  return stringifyYaml({
    name: `${spec.name}-compare`,
    version: 1,
    accept_models: ["auto"],
    routes: { [direct]: spec.routes[direct], [gateway]: spec.routes[gateway] },
    rules: [{ name: "compare", when: "$isRoute(request.model)", route: "$model" }],
    default: { route: direct },
  });
}

async function measure(
  base: string,
  route: string,
  stream: boolean,
  prompt: string,
  maxTokens: number,
  price: Route["price"],
): Promise<Sample> {
  const started = performance.now();
  let ttftMs: number | undefined;
  try {
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: route,
        stream,
        max_tokens: maxTokens,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: "user", content: prompt }],
      }),
    });
    const traceId = response.headers.get("x-switchyard-trace-id") ?? "";
    let usage: OpenAIUsage | undefined;
    if (stream && response.ok && response.body) {
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (ttftMs === undefined && value.includes('"content":"')) {
          ttftMs = performance.now() - started;
        }
        text += value;
      }
      for (const event of text.split("\n\n")) {
        if (!event.startsWith("data: {")) continue;
        const chunk = JSON.parse(event.slice(6));
        if (chunk.error) throw new Error(chunk.error.message);
        if (chunk.usage) usage = chunk.usage;
      }
      if (!text.includes("data: [DONE]")) throw new Error("stream cut");
    } else {
      const body = await response.json();
      if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
      usage = body.usage;
    }
    const totalMs = performance.now() - started;
    const normalized = usage ? normalizeOpenAIUsage(usage) : undefined;
    return {
      ok: true,
      totalMs,
      ttftMs,
      traceId,
      tokens: normalized ? normalized.input_tokens + normalized.output_tokens : 0,
      costUsd: normalized ? costOf(normalized, price).usd : 0,
    };
  } catch (error) {
    return {
      ok: false,
      totalMs: performance.now() - started,
      traceId: "",
      tokens: 0,
      costUsd: 0,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

function summarize(
  route: Route,
  simulated: boolean,
  samples: Sample[],
): RouteSummary {
  const ok = samples.filter((s) => s.ok);
  const totals = ok.map((s) => s.totalMs).sort((a, b) => a - b);
  const ttfts = ok.flatMap((s) => s.ttftMs === undefined ? [] : [s.ttftMs]).sort((a, b) => a - b);
  const byTotal = [...ok].sort((a, b) => a.totalMs - b.totalMs);
  const tokens = ok.reduce((n, s) => n + s.tokens, 0);
  const cost = ok.reduce((n, s) => n + s.costUsd, 0);
  return {
    route: route.name,
    via: route.via,
    model: route.model,
    simulated,
    n: samples.length,
    errors: samples.length - ok.length,
    error_rate: samples.length ? (samples.length - ok.length) / samples.length : 0,
    total_ms: {
      p50: percentile(totals, 0.5),
      p95: percentile(totals, 0.95),
      p99: percentile(totals, 0.99),
    },
    ...(ttfts.length
      ? {
        ttft_ms: {
          p50: percentile(ttfts, 0.5),
          p95: percentile(ttfts, 0.95),
          p99: percentile(ttfts, 0.99),
        },
      }
      : {}),
    usd_per_1k_tokens: tokens ? Math.round((cost / tokens) * 1000 * 1e8) / 1e8 : 0,
    median_trace_id: byTotal[Math.floor((byTotal.length - 1) / 2)]?.traceId ?? "",
    slowest_trace_id: byTotal.at(-1)?.traceId ?? "",
  };
}

/** The markdown table people read. */
export function renderCompare(report: CompareReport): string {
  const row = (r: RouteSummary) =>
    `| ${r.route} | ${r.via} | ${r.n} | ${
      (r.error_rate * 100).toFixed(1)
    }% | ${r.total_ms.p50} | ${r.total_ms.p95} | ${r.total_ms.p99} | ${
      r.ttft_ms ? `${r.ttft_ms.p50} / ${r.ttft_ms.p95}` : "–"
    } | $${r.usd_per_1k_tokens.toFixed(6)} |`;
  const g = report.gatewayAdded;
  return [
    `Compared ${report.requests} requests per route (${
      report.stream ? "streaming" : "non-streaming"
    }, concurrency ${report.concurrency}, prompts of ~${report.promptTokens.join(", ")} tokens)`,
    "",
    "| route | via | n | errors | p50 ms | p95 ms | p99 ms | TTFT p50 / p95 ms | $ per 1K tokens |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...report.routes.map(row),
    "",
    `Gateway added latency: p50 ${g.p50_ms >= 0 ? "+" : ""}${g.p50_ms} ms (${
      g.p50_pct >= 0 ? "+" : ""
    }${g.p50_pct}%), p95 ${g.p95_ms >= 0 ? "+" : ""}${g.p95_ms} ms, p99 ${
      g.p99_ms >= 0 ? "+" : ""
    }${g.p99_ms} ms${
      g.ttft_p50_ms !== undefined ? `; time to first token p50 +${g.ttft_p50_ms} ms` : ""
    }`,
    "",
    "Traces to open in Jaeger:",
    ...report.routes.map((r) =>
      `  ${r.route.padEnd(16)} median ${r.median_trace_id}  slowest ${r.slowest_trace_id}`
    ),
    ...(report.routes.some((r) => r.simulated)
      ? [
        "",
        "Simulated routes (no API key set): the numbers show the shape, not a provider's speed.",
      ]
      : []),
  ].join("\n");
}

export async function compare(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      policy: { type: "string", default: "policies/default.yaml" },
      direct: { type: "string", default: "gpt-mini" },
      gateway: { type: "string", default: "or-gpt-mini" },
      requests: { type: "string", default: "40" },
      concurrency: { type: "string", default: "4" },
      "prompt-tokens": { type: "string", default: "200,2000" },
      "max-tokens": { type: "string", default: "64" },
      stream: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      "sim-latency-scale": { type: "string" },
    },
  });
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const maxTokens = Number(values["max-tokens"]);
  const sizes = values["prompt-tokens"]!.split(",").map(Number);
  if (
    !(requests > 0 && requests <= 10_000) || !(concurrency > 0 && concurrency <= 256) ||
    sizes.some((n) => !(n > 0 && n <= 200_000)) || !(maxTokens > 0)
  ) {
    throw new UsageError(
      "--requests 1–10000, --concurrency 1–256, --prompt-tokens a list of 1–200000, --max-tokens > 0",
    );
  }
  let policy;
  try {
    policy = await loadPolicy(values.policy!, { requireEnv: true });
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    console.error(error.message);
    return EXIT.INVALID;
  }
  for (const name of [values.direct!, values.gateway!]) {
    if (!policy.routes[name]) throw new UsageError(`The policy has no route \`${name}\``);
  }
  if (policy.routes[values.gateway!].via !== "gateway") {
    throw new UsageError(`Route \`${values.gateway}\` is not a gateway route`);
  }

  const dir = await Deno.makeTempDir({ prefix: "switchyard-compare-" });
  const file = `${dir}/compare.yaml`;
  await Deno.writeTextFile(
    file,
    comparisonPolicy(await Deno.readTextFile(values.policy!), values.direct!, values.gateway!),
  );
  // The server runs as its own process, exactly as `deno task serve` runs it (its simulators
  // included), so its traces are the ones a user sees; this process is only the client.
  const scale = values["sim-latency-scale"] ?? processEnv("SWITCHYARD_SIM_LATENCY_SCALE") ?? "1";
  const server = new Deno.Command("deno", {
    args: [
      "run",
      "--unstable-no-legacy-abort",
      "--allow-net",
      "--allow-read",
      "--allow-run=deno",
      "--allow-env",
      new URL("../cli.ts", import.meta.url).pathname,
      "serve",
      "--port",
      "0",
      "--policy",
      file,
      "--no-watch",
      "--store",
      "none",
      "--sim-latency-scale",
      scale,
    ],
    env: {
      OTEL_DENO: processEnv("OTEL_DENO") ?? "true",
      OTEL_SERVICE_NAME: processEnv("OTEL_SERVICE_NAME") ?? "switchyard",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(server.stderr).text();
  try {
    const banner = await readBanner(server.stdout);
    const base = banner.url;
    const simulated = new Set(banner.simulated);
    const routes = [values.direct!, values.gateway!];
    const samples: Record<string, Sample[]> = Object.fromEntries(routes.map((r) => [r, []]));
    // Interleaved: request i goes through both routes back to back, so noise hits both alike.
    const jobs = Array.from({ length: requests }, (_, i) => i).flatMap((i) =>
      (i % 2 ? [...routes].reverse() : routes).map((route) => ({ route, i }))
    );
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const { route, i } = jobs[next++];
        const prompt = promptOf(sizes[i % sizes.length], i);
        samples[route].push(
          await measure(
            base,
            route,
            values.stream!,
            prompt,
            maxTokens,
            policy.routes[route].price,
          ),
        );
      }
    }));
    const summaries = routes.map((r) => summarize(policy.routes[r], simulated.has(r), samples[r]));
    const [d, g] = summaries;
    const added = (a: number, b: number) => Math.round((b - a) * 100) / 100;
    const report: CompareReport = {
      policy: policy.name,
      requests,
      concurrency,
      stream: values.stream!,
      promptTokens: sizes,
      routes: summaries,
      gatewayAdded: {
        p50_ms: added(d.total_ms.p50, g.total_ms.p50),
        p95_ms: added(d.total_ms.p95, g.total_ms.p95),
        p99_ms: added(d.total_ms.p99, g.total_ms.p99),
        p50_pct: d.total_ms.p50
          ? Math.round(((g.total_ms.p50 - d.total_ms.p50) / d.total_ms.p50) * 1000) / 10
          : 0,
        ...(d.ttft_ms && g.ttft_ms ? { ttft_p50_ms: added(d.ttft_ms.p50, g.ttft_ms.p50) } : {}),
      },
    };
    console.log(values.json ? JSON.stringify(report, null, 2) : renderCompare(report));
    return summaries.some((s) => s.errors === s.n) ? EXIT.TESTS_FAILED : EXIT.OK;
  } catch (error) {
    console.error(await stderr.catch(() => ""));
    throw error;
  } finally {
    try {
      server.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await server.status;
    await stderr.catch(() => "");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Waits for the server's banner: its address and which routes are simulated. */
async function readBanner(
  stdout: ReadableStream<Uint8Array>,
): Promise<{ url: string; simulated: string[] }> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/\ntelemetry /.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`The server exited before it listened:\n${text}`);
    text += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const url = text.match(/listening on (http:\/\/\S+)/)![1];
  const simulated = [...text.matchAll(/^(?:routes)?\s+(\S+)\s+.*simulated \(/gm)].map((m) => m[1]);
  return { url, simulated };
}

/**
 * A Switchyard server for tests: a simulated fleet with millisecond latencies, a policy written
 * to a temporary file, the app on a real loopback port. Everything closes on dispose.
 */
import { type Config, ConfigSchema } from "../../src/config.ts";
import { type App, createApp } from "../../src/server/app.ts";
import type { Authenticator } from "../../src/server/auth.ts";
import { type Fleet, type FleetOptions, startFleet } from "../../src/sim/fleet.ts";

/** Routes to every wire format, with fallbacks between them. */
export const TEST_POLICY = `
name: test
version: 1
accept_models: [auto, "*/*"]
routes:
  openai:
    via: direct
    provider: openai
    model: gpt-4o-mini
    price: { input: 0.15, cached_input: 0.075, output: 0.6 }
    context_tokens: 128000
    timeout_ms: { first_byte: 1500, idle: 1000, total: 5000 }
  anthropic:
    via: direct
    provider: anthropic
    model: claude-sonnet-4-5
    price: { input: 3, cached_input: 0.3, output: 15 }
    context_tokens: 200000
    timeout_ms: { first_byte: 1500, idle: 1000, total: 5000 }
  gemini:
    via: direct
    provider: gemini
    model: gemini-2.5-flash
    price: { input: 0.3, output: 2.5 }
    context_tokens: 1000000
    timeout_ms: { first_byte: 1500, idle: 1000, total: 5000 }
  mistral:
    via: direct
    provider: mistral
    model: mistral-small-latest
    price: { input: 0.1, output: 0.3 }
    context_tokens: 128000
    timeout_ms: { first_byte: 1500, idle: 1000, total: 5000 }
  gateway:
    via: gateway
    provider: openrouter
    model: openai/gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
    timeout_ms: { first_byte: 1500, idle: 1000, total: 5000 }
    gateway: { provider: { sort: latency } }
  tiny:
    via: direct
    provider: mistral
    model: mistral-tiny-latest
    price: { input: 0.01, output: 0.01 }
    context_tokens: 50
rules:
  - { name: pinned, when: '$isRoute(request.model)', route: $model, fallbacks: [mistral] }
  - { name: to-anthropic, when: '"anthropic" in tags', route: anthropic, fallbacks: [openai] }
  - { name: to-gemini, when: '"gemini" in tags', route: gemini, fallbacks: [openai] }
  - { name: to-gateway, when: '"gateway" in tags', route: gateway, fallbacks: [openai] }
  - { name: to-tiny, when: '"tiny" in tags', route: openai, fallbacks: [tiny, mistral] }
default:
  route: openai
  fallbacks: [gateway, mistral]
`;

/** Millisecond latencies: tests wait on logic, not on simulated models. */
export const FAST_FLEET: FleetOptions = {
  latency: { ttft_ms: 2, tokens_per_s: 5000, jitter: 0 },
  gateway: { processingMs: [1, 2], keepAliveMs: 50 },
};

export interface TestServer extends AsyncDisposable {
  /** Origin, e.g. http://127.0.0.1:41234 */
  url: string;
  /** OpenAI SDK base URL: `${url}/v1`. */
  baseURL: string;
  app: App;
  fleet: Fleet;
  policyFile: string;
  /** The temporary directory holding the policy (and budgets, logs) of this server. */
  dir: string;
  logs: string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  policy?: string;
  /** budgets.yaml text; without it no budget applies (spend is still recorded). */
  budgets?: string;
  config?: Partial<Config>;
  fleet?: FleetOptions;
  env?: Record<string, string>;
  auth?: Authenticator;
}

/** Starts fleet, app and listener. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-test-" });
  const policyFile = `${dir}/policy.yaml`;
  await Deno.writeTextFile(policyFile, options.policy ?? TEST_POLICY);
  const budgetsFile = `${dir}/budgets.yaml`;
  if (options.budgets) await Deno.writeTextFile(budgetsFile, options.budgets);
  const fleet = await startFleet({ ...FAST_FLEET, ...options.fleet });
  const logs: string[] = [];
  let app: App | undefined;
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    const config = ConfigSchema.parse({
      port: 0,
      policy: policyFile,
      watch: false,
      store: "kv::memory:",
      budgetsFile,
      ...options.config,
    });
    app = await createApp({
      config,
      simulators: fleet.baseUrls,
      env: (name) => options.env?.[name],
      auth: options.auth,
      log: (line) => logs.push(line),
    });
    const started = app;
    server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => started.fetch(request),
    );
  } catch (error) {
    await fleet.close();
    await app?.close();
    throw error;
  }
  const url = `http://127.0.0.1:${server.addr.port}`;
  const running = server;
  const ready = app;
  const close = async () => {
    await running.shutdown();
    await ready.close();
    await fleet.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    url,
    baseURL: `${url}/v1`,
    app: ready,
    fleet,
    policyFile,
    dir,
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Posts a chat request and returns the raw response. */
export function chat(
  server: TestServer,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** A one-message request body. */
export function hello(extra: Record<string, unknown> = {}, content = "Hello there") {
  return { model: "auto", messages: [{ role: "user", content }], ...extra };
}

/** Reads an SSE response into its `data:` payloads. */
export async function sseData(response: Response): Promise<string[]> {
  const text = await response.text();
  return text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
}

/**
 * The server run as users run it (`serve`, OTEL_DENO=true, simulators as their own processes),
 * exporting to an OTLP/HTTP receiver on loopback: the span tree and parentage of a direct, a
 * gateway, a streamed and a fallback request; the attributes; and that nothing exported holds
 * prompt text or a key.
 */
import assert from "node:assert/strict";
import { type ReceivedSpan, startReceiver } from "./otlp.ts";

const PROMPT_MARKER = "zebra-quartz-prompt-7731";
const SECRET_KEY = "sk-test-SECRET-key-9f3e1d";

/** A local OpenAI-compatible upstream that records the traceparent it receives. */
function startLocalUpstream() {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    seen.push(req.headers.get("traceparent") ?? "");
    await req.body?.cancel();
    return Response.json({
      id: "chatcmpl-local",
      object: "chat.completion",
      created: 1,
      model: "local-model",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    });
  });
  return { server, seen, url: `http://127.0.0.1:${server.addr.port}/v1` };
}

function policy(localUrl: string) {
  return `
name: traced
version: 3
routes:
  direct:
    via: direct
    provider: openai
    model: gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
  gateway:
    via: gateway
    provider: openrouter
    model: openai/gpt-4o-mini
    price: { input: 0.15, output: 0.6 }
    context_tokens: 128000
  broken:
    via: direct
    provider: openai-compatible
    model: nowhere
    base_url: http://127.0.0.1:9/v1
    price: { input: 0, output: 0 }
    context_tokens: 8192
  local:
    via: direct
    provider: openai-compatible
    model: local-model
    base_url: ${localUrl}
    api_key_env: TEST_LOCAL_KEY
    price: { input: 0, output: 0 }
    context_tokens: 8192
rules:
  - { name: gw, when: '"gateway" in tags', route: gateway }
  - { name: fb, when: '"fallback" in tags', route: broken, fallbacks: [direct] }
  - { name: lo, when: '"local" in tags', route: local }
default: { route: direct }
`;
}

async function readBanner(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening on (http:\/\/\S+)/.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`serve exited early:\n${text}`);
    text += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return text.match(/listening on (http:\/\/\S+)/)![1];
}

const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));

Deno.test({
  name: "telemetry: spans, parentage, three services per gateway trace, and no leaks",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using receiver = startReceiver();
    const local = startLocalUpstream();
    const dir = await Deno.makeTempDir();
    const file = `${dir}/policy.yaml`;
    await Deno.writeTextFile(file, policy(local.url));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-no-legacy-abort",
        "src/cli.ts",
        "serve",
        "--port",
        "0",
        "--policy",
        file,
        "--no-watch",
      ],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "switchyard",
        // Observable metrics (open connections) are read at periodic exports, not at exit.
        OTEL_METRIC_EXPORT_INTERVAL: "250",
        SWITCHYARD_SIM_LATENCY_SCALE: "0.02",
        SWITCHYARD_GATEWAY_STATS_DELAY_MS: "50",
        TEST_LOCAL_KEY: SECRET_KEY,
        SWITCHYARD_STORE: "none",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    try {
      const base = await readBanner(child.stdout);
      const post = async (tags: string, body: Record<string, unknown>, headers = {}) => {
        const response = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-switchyard-tags": tags, ...headers },
          body: JSON.stringify({
            model: "auto",
            messages: [{ role: "user", content: `Tell me about ${PROMPT_MARKER}` }],
            ...body,
          }),
        });
        const text = await response.text();
        assert.equal(response.status, 200, text);
        return { traceId: response.headers.get("x-switchyard-trace-id")!, text };
      };
      const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
      const callerSpan = "00f067aa0ba902b7";
      const direct = await post("", {}, { traceparent: `00-${callerTrace}-${callerSpan}-01` });
      const gateway = await post("gateway", {});
      const streamed = await post("", { stream: true, max_tokens: 40 });
      const fallback = await post("fallback", {});
      const localCall = await post("local", {});
      assert.equal(direct.traceId, callerTrace, "the caller's trace continues");
      assert.match(streamed.text, /data: \[DONE\]/);
      // The connection metric is observed at a periodic export (Deno's exit flush skips
      // observable instruments): wait for one that saw the kept-alive connections.
      const idleSeen = () =>
        receiver.metricPoints("http.client.open_connections").some((p) =>
          p["http.connection.state"] === "idle" && Number(p["@value"]) >= 1
        );
      for (let waited = 0; !idleSeen() && waited < 5_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      // Stop the server (and its simulators): every process flushes its telemetry on exit.
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      await receiver.waitFor(
        (spans) =>
          [direct, gateway, streamed, fallback].every((r) =>
            spans.some((s) => s.traceId === r.traceId && s.name.startsWith("chat "))
          ) && spans.some((s) => s.service === "simulated-openrouter"),
        10_000,
      );
      const spans = receiver.spans();
      const ids = byId(spans);
      const trace = (id: string) => spans.filter((s) => s.traceId === id);
      const one = (list: ReceivedSpan[], predicate: (s: ReceivedSpan) => boolean, what: string) => {
        const found = list.filter(predicate);
        assert.equal(
          found.length,
          1,
          `${what}: ${found.length} spans in ${
            list.map((s) => `${s.service}/${s.name}`).join(", ")
          }`,
        );
        return found[0];
      };

      // Direct: server span → policy.decide and chat attempt → fetch → the simulator's server span.
      const d = trace(direct.traceId);
      const server = one(
        d,
        (s) => s.name === "POST /v1/chat/completions" && s.service === "switchyard",
        "server span",
      );
      assert.equal(server.parentSpanId, callerSpan);
      assert.equal(server.attributes["http.route"], "/v1/chat/completions");
      assert.ok(Number(server.attributes["switchyard.overhead_ms"]) >= 0);
      const decide = one(d, (s) => s.name === "policy.decide", "policy.decide");
      assert.equal(decide.parentSpanId, server.spanId);
      assert.equal(decide.attributes["switchyard.policy.name"], "traced");
      assert.equal(decide.attributes["switchyard.policy.version"], "3");
      assert.match(String(decide.attributes["switchyard.policy.hash"]), /^[0-9a-f]{12}$/);
      assert.equal(decide.attributes["switchyard.rule"], "(default)");
      assert.equal(decide.attributes["switchyard.route"], "direct");
      assert.equal(decide.attributes["switchyard.via"], "direct");
      assert.equal(decide.attributes["switchyard.rules_evaluated"], 3);
      const attempt = one(d, (s) => s.name === "chat gpt-4o-mini", "attempt span");
      assert.equal(attempt.parentSpanId, server.spanId);
      assert.equal(attempt.kind, 3, "CLIENT");
      for (
        const [key, want] of Object.entries({
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o-mini",
          "gen_ai.response.model": "gpt-4o-mini",
          "server.address": "127.0.0.1",
          "switchyard.route": "direct",
          "switchyard.via": "direct",
          "switchyard.attempt": 1,
          "switchyard.simulated": true,
        })
      ) assert.equal(attempt.attributes[key], want, key);
      assert.ok(Number(attempt.attributes["gen_ai.usage.input_tokens"]) > 0);
      assert.ok(Number(attempt.attributes["gen_ai.usage.output_tokens"]) > 0);
      assert.deepEqual(attempt.attributes["gen_ai.response.finish_reasons"], ["stop"]);
      assert.match(String(attempt.attributes["gen_ai.response.id"]), /^chatcmpl-/);
      assert.ok(Number(attempt.attributes["switchyard.cost_usd"]) > 0);
      const fetchSpan = one(
        d,
        (s) => s.parentSpanId === attempt.spanId && s.service === "switchyard",
        "fetch span",
      );
      // Switchyard's own HTTP client span (Deno instruments only fetch), per the HTTP conventions.
      assert.equal(fetchSpan.name, "POST");
      assert.equal(fetchSpan.kind, 3, "CLIENT");
      assert.equal(fetchSpan.attributes["http.request.method"], "POST");
      assert.equal(fetchSpan.attributes["http.response.status_code"], 200);
      assert.equal(fetchSpan.attributes["server.address"], "127.0.0.1");
      assert.match(
        String(fetchSpan.attributes["url.full"]),
        /^http:\/\/127\.0\.0\.1:\d+\/.*chat\/completions$/,
      );
      assert.ok(fetchSpan.start >= attempt.start && fetchSpan.end <= attempt.end);
      const simServer = one(
        d,
        (s) => s.service === "simulated-openai" && s.name.startsWith("simulate "),
        "simulator span",
      );
      assert.equal(
        simServer.parentSpanId,
        fetchSpan.spanId,
        "the upstream got the attempt's context",
      );

      // Gateway: three services in one trace; the gateway's own work is a span of its own.
      const g = trace(gateway.traceId);
      const services = new Set(g.map((s) => s.service));
      for (const s of ["switchyard", "simulated-openrouter", "simulated-openai"]) {
        assert.ok(services.has(s), s);
      }
      const gwServer = one(
        g,
        (s) => s.service === "simulated-openrouter" && s.name.startsWith("simulate POST"),
        "gateway span",
      );
      const gwAttempt = one(g, (s) => s.name === "chat openai/gpt-4o-mini", "gateway attempt");
      assert.equal(gwAttempt.attributes["switchyard.via"], "gateway");
      assert.equal(gwAttempt.attributes["gen_ai.provider.name"], "openrouter");
      // What the gateway reported, fetched after the response: provider, timings, its overhead.
      assert.match(String(gwAttempt.attributes["switchyard.gateway.provider"]), /OpenAI|Azure/);
      assert.ok(Number(gwAttempt.attributes["switchyard.gateway.generation_time_ms"]) > 0);
      const gatewayOverhead = Number(gwAttempt.attributes["switchyard.gateway.overhead_ms"]);
      const observed = Number(gwAttempt.end - gwAttempt.start) / 1e6;
      assert.ok(gatewayOverhead >= 0 && gatewayOverhead < observed, `${gatewayOverhead} ms`);
      assert.equal(ids.get(gwServer.parentSpanId)?.parentSpanId, gwAttempt.spanId);
      const gwWork = one(g, (s) => s.name === "gateway.route", "gateway.route span");
      assert.equal(gwWork.parentSpanId, gwServer.spanId);
      const provider = one(
        g,
        (s) => s.service === "simulated-openai" && s.name.startsWith("simulate "),
        "provider span",
      );
      assert.equal(ids.get(provider.parentSpanId)?.service, "simulated-openrouter");

      // Streamed: the attempt span lasts until the last byte, past Deno's server span.
      const st = trace(streamed.traceId);
      const stServer = one(st, (s) => s.name === "POST /v1/chat/completions", "stream server span");
      const stAttempt = one(st, (s) => s.name === "chat gpt-4o-mini", "stream attempt");
      assert.ok(stAttempt.events.some((e) => e.name === "first_token"));
      assert.ok(Number(stAttempt.attributes["gen_ai.response.time_to_first_chunk"]) > 0);
      const stSim = one(
        st,
        (s) => s.service === "simulated-openai" && s.name.startsWith("simulate "),
        "stream simulator span",
      );
      // The simulator's span also covers writing the final empty chunk, after the [DONE] event
      // the attempt ends on: allow a few milliseconds.
      assert.ok(
        stAttempt.end + 5_000_000n >= stSim.end,
        "the attempt covers the whole upstream stream",
      );
      assert.ok(stAttempt.end - stAttempt.start > 5_000_000n, "the stream took time");
      assert.ok(stAttempt.end > stServer.end, "Deno's server span ended at the headers");

      // Fallback: an errored attempt with its reason, then the fallback's attempt.
      const f = trace(fallback.traceId);
      const failed = one(f, (s) => s.name === "chat nowhere", "failed attempt");
      assert.equal(failed.status.code, 2, "ERROR");
      assert.equal(failed.attributes["error.type"], "connection");
      const served = one(f, (s) => s.name === "chat gpt-4o-mini", "fallback attempt");
      assert.equal(served.attributes["switchyard.fallback_reason"], "broken: connection");
      assert.ok(served.start >= failed.end);
      const fServer = one(f, (s) => s.name === "POST /v1/chat/completions", "fallback server span");
      assert.deepEqual(fServer.attributes["gen_ai.gateway.providers.attempted"], [
        "openai_compatible",
        "openai",
      ]);

      // The live upstream received a traceparent of this trace, from the fetch under the attempt.
      const lo = trace(localCall.traceId);
      const loAttempt = one(lo, (s) => s.name === "chat local-model", "local attempt");
      const parent = local.seen.at(-1)!.split("-");
      assert.equal(parent[1], localCall.traceId);
      assert.equal(ids.get(parent[2])?.parentSpanId, loAttempt.spanId);

      // Metrics arrived under their GenAI names.
      const metrics = receiver.metricNames();
      for (
        const name of [
          "gen_ai.client.operation.duration",
          "gen_ai.client.token.usage",
          "switchyard.decision.duration",
          "switchyard.overhead.duration",
          "http.client.open_connections",
        ]
      ) {
        assert.ok(metrics.has(name), `metric ${name} in ${[...metrics].join(", ")}`);
      }
      // The upstream client's connections, by state and origin: the simulator's stay open idle.
      const connections = receiver.metricPoints("http.client.open_connections");
      assert.ok(
        connections.some((p) =>
          p["http.connection.state"] === "idle" && p["server.address"] === "127.0.0.1" &&
          Number(p["@value"]) >= 1
        ),
        JSON.stringify(connections),
      );
      // Token usage is split by token type, each point carrying its route's attributes.
      const usage = receiver.metricPoints("gen_ai.client.token.usage")
        .filter((p) => p["switchyard.route"] === "direct");
      for (const type of ["input", "output"]) {
        const point = usage.find((p) => p["gen_ai.token.type"] === type);
        assert.ok(point, `token usage of type ${type}`);
        assert.equal(point["gen_ai.operation.name"], "chat");
        assert.equal(point["switchyard.via"], "direct");
      }

      // Privacy: no prompt text and no key anywhere in what was exported.
      const everything = receiver.bodies.map((b) => b.text).join("\n");
      assert.ok(everything.length > 1000);
      assert.ok(!everything.includes(PROMPT_MARKER), "prompt text leaked into telemetry");
      assert.ok(!everything.includes(SECRET_KEY), "an API key leaked into telemetry");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already stopped.
      }
      await child.status;
      await stderr;
      await local.server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "telemetry: prompt and completion text are recorded only when content capture is on",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using receiver = startReceiver();
    const dir = await Deno.makeTempDir();
    const file = `${dir}/policy.yaml`;
    await Deno.writeTextFile(file, policy("http://127.0.0.1:9/v1"));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-no-legacy-abort", "src/cli.ts", "serve", "--port", "0"]
        .concat(["--policy", file, "--no-watch", "--capture-content"]),
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "switchyard",
        SWITCHYARD_SIM_LATENCY_SCALE: "0.02",
        SWITCHYARD_STORE: "none",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    try {
      const base = await readBanner(child.stdout);
      for (const stream of [false, true]) {
        const response = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "auto",
            stream,
            messages: [{ role: "user", content: `Capture ${PROMPT_MARKER}` }],
          }),
        });
        await response.text();
      }
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      await receiver.waitFor(
        (spans) => spans.filter((s) => s.name === "chat gpt-4o-mini").length >= 2,
        10_000,
      );
      const attempts = receiver.spans().filter((s) => s.name === "chat gpt-4o-mini");
      for (const attempt of attempts) {
        const input = JSON.parse(String(attempt.attributes["gen_ai.input.messages"]));
        assert.match(input[0].content, new RegExp(PROMPT_MARKER));
        const output = JSON.parse(String(attempt.attributes["gen_ai.output.messages"]));
        assert.equal(output[0].role, "assistant");
        assert.match(
          output[0].content,
          new RegExp(`Capture ${PROMPT_MARKER}`),
          "the answer echoes",
        );
      }
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already stopped.
      }
      await child.status;
      await stderr;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * Graceful shutdown of the real process: on SIGTERM it stops accepting, lets a stream in flight
 * finish, and exits 0; a stream that outlives the grace period does not keep it alive. The banner
 * tells simulated routes from live ones. The in-flight stream comes from a stub upstream that
 * holds it until the test lets go, so "in flight" never depends on timing.
 */
import assert from "node:assert/strict";
import { hello, sseData, startTestServer } from "./harness.ts";
import { spawnServe } from "./process.ts";
import { startStubUpstream, type StubUpstream } from "./stub_upstream.ts";

/** A simulated route, a gateway route (simulated too) and a live route to the stub. */
function policy(upstream: StubUpstream): string {
  return `
name: shutdown
version: 3.1.0
routes:
  openai:
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
  held:
    via: direct
    provider: openai-compatible
    model: held-model
    base_url: ${upstream.origin}/v1
    price: { input: 0, output: 0 }
    context_tokens: 8192
rules:
  - { name: pinned, when: '$isRoute(request.model)', route: $model }
default: { route: openai, fallbacks: [gateway] }
`;
}

async function policyFile(upstream: StubUpstream): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-shutdown-" });
  await Deno.writeTextFile(`${dir}/policy.yaml`, policy(upstream));
  return `${dir}/policy.yaml`;
}

function post(url: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Resolves with the exit status, or fails after `ms`. */
async function exitWithin(status: Promise<Deno.CommandStatus>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the process did not exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([status, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether new TCP connections to the server's port are refused within `ms` (the listener closes
 * just after the draining log line). */
async function refusedWithin(url: string, ms: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const until = performance.now() + ms;
  while (performance.now() < until) {
    try {
      const conn = await Deno.connect({ hostname, port: Number(port) });
      conn.close();
    } catch (error) {
      return error instanceof Deno.errors.ConnectionRefused;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

Deno.test("shutdown: on SIGTERM a stream in flight completes with [DONE], new connections are refused, exit 0", async () => {
  await using upstream = startStubUpstream({ hold: true });
  const file = await policyFile(upstream);
  await using server = await spawnServe(["--policy", file], {
    SWITCHYARD_SIM_LATENCY_SCALE: "0.01",
  });
  // A short simulated answer first: the simulators run, fast at this scale.
  const quick = await post(server.url, hello({ max_tokens: 4 }));
  assert.equal(quick.status, 200);
  assert.equal(quick.headers.get("x-switchyard-simulated"), "true");
  await quick.body?.cancel();

  const stream = await post(server.url, hello({ model: "held", stream: true }));
  assert.equal(stream.status, 200);
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  assert.match(first.value ?? "", /stub 0 from held-model/);

  server.kill("SIGTERM");
  await server.waitForLog(/SIGTERM: draining/);
  assert.equal(
    await refusedWithin(server.url, 1_000),
    true,
    "new connections are refused while draining",
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(server.exited, false, "the process waits for the stream");

  upstream.release();
  let rest = first.value ?? "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += value;
  }
  assert.ok(rest.trimEnd().endsWith("data: [DONE]"), rest);
  const status = await exitWithin(server.status, 5_000);
  assert.equal(status.code, 0);
  assert.ok(server.stderr.some((l) => l.endsWith("stopped")));
  await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
});

Deno.test("shutdown: a stream that outlives the grace period does not keep the process alive", async () => {
  await using upstream = startStubUpstream({ hold: true });
  const file = await policyFile(upstream);
  await using server = await spawnServe(["--policy", file, "--shutdown-grace-ms", "200"], {
    SWITCHYARD_SIM_LATENCY_SCALE: "0.01",
  });
  const stream = await post(server.url, hello({ model: "held", stream: true }));
  assert.equal(stream.status, 200);
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read();

  const killedAt = performance.now();
  server.kill("SIGTERM");
  const status = await exitWithin(server.status, 5_000);
  const tookMs = performance.now() - killedAt;
  assert.equal(status.code, 0);
  assert.ok(tookMs >= 190, `exited after ${tookMs} ms, before the grace period ended`);
  assert.ok(server.stderr.some((l) => /grace period over/.test(l)));
  // The client sees a cut connection (or a body without [DONE]), never a clean end.
  let rest = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += value;
    }
  } catch {
    // The connection was dropped when the process exited.
  }
  assert.ok(!rest.includes("[DONE]"));
  await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
});

Deno.test("shutdown: the banner lists the address, the policy, each route live or simulated, and telemetry", async () => {
  await using upstream = startStubUpstream();
  const file = await policyFile(upstream);
  await using server = await spawnServe(["--policy", file], {
    SWITCHYARD_SIM_LATENCY_SCALE: "0.01",
  });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const banner = server.stdout.join("\n");
  const hash = (await (await fetch(`${server.url}/v1/policy`)).json()).hash;
  assert.match(banner, new RegExp(`^policy +shutdown 3\\.1\\.0 \\(${hash}\\) from ${file}`, "m"));
  const routeLine = (name: string) => server.stdout.find((l) => new RegExp(` ${name} `).test(l));
  assert.match(
    routeLine("openai") ?? "",
    /direct +openai +gpt-4o-mini +simulated \(no API key set\)/,
  );
  assert.match(routeLine("gateway") ?? "", /gateway +openrouter +openai\/gpt-4o-mini +simulated/);
  assert.match(routeLine("held") ?? "", new RegExp(`live → ${upstream.origin}/v1$`));
  assert.match(banner, /^upstream +own HTTP\/1\.1 client, kept-alive connections$/m);
  assert.match(banner, /^telemetry +off \(set OTEL_DENO=true/m);

  server.kill("SIGINT");
  assert.equal((await exitWithin(server.status, 5_000)).code, 0);
  await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
});

Deno.test("shutdown: once draining, /readyz answers 503 while /healthz stays 200", async () => {
  await using server = await startTestServer();
  assert.equal((await (await fetch(`${server.url}/readyz`)).json()).status, "ready");
  server.app.drain();
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: "draining" });
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const served = await sseData(
    await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(hello({ stream: true })),
    }),
  );
  assert.equal(served.at(-1), "[DONE]", "requests still arriving on open connections are served");
});

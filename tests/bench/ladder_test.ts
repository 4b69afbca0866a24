import assert from "node:assert/strict";
import { createMockHandler } from "./mock.ts";
import { createFloorHandler, DUTIES, parseDuties } from "./router_floor.ts";
import { type LadderRun, renderLadder, RUNGS } from "./ladder.ts";

/** The mock upstream, recording what each request it received looked like. */
function startUpstream() {
  const mock = createMockHandler({ chunks: 5, delayMs: 0 });
  const seen: { body: Record<string, unknown>; headers: Headers }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const text = await req.clone().text();
    seen.push({ body: JSON.parse(text), headers: req.headers });
    return mock(req);
  });
  return { server, seen, origin: `http://127.0.0.1:${server.addr.port}` };
}

function startFloor(origin: string, duties: string) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createFloorHandler(origin, parseDuties(duties)),
  );
}

const post = (port: number, body: Record<string, unknown>) =>
  fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "req-ladder-1" },
    body: JSON.stringify(body),
  });

const CHAT = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };

Deno.test("router floor: with no duty it forwards the request and the answer unchanged", async () => {
  const upstream = startUpstream();
  const floor = startFloor(upstream.origin, "");
  try {
    const res = await post(floor.addr.port, CHAT);
    const answer = await res.json();
    assert.equal(res.status, 200);
    assert.equal(answer.object, "chat.completion");
    assert.equal(res.headers.get("x-switchyard-route"), null);
    assert.deepEqual(upstream.seen[0].body, CHAT);
    assert.equal(upstream.seen[0].headers.get("x-request-id"), null);
  } finally {
    await floor.shutdown();
    await upstream.server.shutdown();
  }
});

Deno.test("router floor: every duty does what the ladder says it adds", async () => {
  const upstream = startUpstream();
  const floor = startFloor(upstream.origin, DUTIES.join(","));
  try {
    const res = await post(floor.addr.port, CHAT);
    const answer = await res.json();
    assert.equal(answer.usage.total_tokens, answer.usage.prompt_tokens + 8);
    // headers: Switchyard's routing headers, with the client's request id.
    assert.equal(res.headers.get("x-request-id"), "req-ladder-1");
    for (const name of ["policy", "rule", "route", "via", "attempts", "overhead-ms", "trace-id"]) {
      assert.ok(res.headers.get(`x-switchyard-${name}`), `x-switchyard-${name} missing`);
    }
    // rewrite: the route's model upstream, with accept and the request id.
    assert.equal(upstream.seen[0].body.model, "bench-model");
    assert.equal(upstream.seen[0].headers.get("accept"), "application/json");
    assert.equal(upstream.seen[0].headers.get("x-request-id"), "req-ladder-1");

    // observe: a stream goes through JS and arrives whole, every chunk and the terminator.
    const streamed = await post(floor.addr.port, {
      ...CHAT,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(streamed.headers.get("content-type"), "text/event-stream");
    const text = await streamed.text();
    const events = text.split("\n\n").filter(Boolean);
    assert.equal(events.length, 1 + 5 + 1 + 1 + 1); // role, content, finish, usage, [DONE]
    assert.equal(events.at(-1), "data: [DONE]");
    assert.match(events.at(-2)!, /"usage":\{"prompt_tokens":8,"completion_tokens":5/);
    assert.equal(upstream.seen[1].headers.get("accept"), "text/event-stream");
  } finally {
    await floor.shutdown();
    await upstream.server.shutdown();
  }
});

Deno.test("router floor: with the abort duty, a client that leaves aborts the upstream call", async () => {
  // An upstream that does not answer for 6 s; it notes when the floor's request to it is aborted.
  const upstreamAborted = Promise.withResolvers<void>();
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new Promise<Response>((resolve) => {
        const late = setTimeout(() => resolve(new Response("late")), 6_000);
        req.signal.addEventListener("abort", () => {
          clearTimeout(late);
          upstreamAborted.resolve();
          resolve(new Response(null));
        });
      }),
  );
  const floor = startFloor(`http://127.0.0.1:${upstream.addr.port}`, "read,abort");
  const client = new AbortController();
  try {
    const pending = fetch(`http://127.0.0.1:${floor.addr.port}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify(CHAT),
      signal: client.signal,
    }).catch(() => "aborted");
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.abort();
    assert.equal(await pending, "aborted");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      upstreamAborted.promise.then(() => "upstream aborted"),
      new Promise((resolve) => timer = setTimeout(() => resolve("upstream still waiting"), 5_000)),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, "upstream aborted");
  } finally {
    await floor.shutdown();
    await upstream.shutdown();
  }
});

Deno.test("router floor: an unknown duty is refused by name", () => {
  assert.throws(() => parseDuties("read,teleport"), /Unknown duty `teleport`/);
  assert.deepEqual([...parseDuties(" read , parse ")], ["read", "parse"]);
});

Deno.test("ladder tables: one row per rung, each figure as a share or multiple of the floor", () => {
  // Two rounds; the tables show medians. The mock alone: TTFB 100, total 200, p50 50, p99 100 µs.
  const round = (scale: number) =>
    Object.fromEntries(RUNGS.map((rung, i) => [rung.name, {
      rps: scale * 10_000 / (1 + i),
      ttfbP50: 100 + 50 * (1 + i),
      totalP50: 200 + 100 * (1 + i),
      fixed: { 200: { p50: 50 + 10 * (1 + i), p99: 100 + 100 * (1 + i) } },
      errors: rung.name === "switchyard" ? 2 : 0,
    }]));
  const direct = { ttfbP50: 100, totalP50: 200, fixed: { 200: { p50: 50, p99: 100 } } };
  const run: LadderRun = { rates: [200], rounds: [round(1), round(1.2)], direct: [direct, direct] };
  const [throughput, latency] = renderLadder(run).split("\n\n").map((t) => t.split("\n"));
  const cells = (row: string) => row.split("|").slice(1, -1).map((c) => c.trim());

  const rows = throughput.slice(2);
  assert.equal(rows.length, RUNGS.length);
  assert.deepEqual(cells(rows[0]).slice(2), ["11,000", "1.00", "50 µs", "1.00", "100 µs", "1.00"]);
  assert.equal(cells(rows[1])[0], "+read");
  assert.deepEqual(cells(rows[1]).slice(2), ["5,500", "0.50", "100 µs", "2.00", "200 µs", "2.00"]);
  assert.match(rows.at(-1)!, /\*\*4 errors\*\*/);

  assert.deepEqual(cells(latency[0]), [
    "rung",
    "p50 added at 200/s",
    "× floor",
    "p99 added at 200/s",
    "× floor",
  ]);
  const lat = latency.slice(2);
  assert.equal(lat.length, RUNGS.length);
  assert.deepEqual(cells(lat[0]), ["passthrough", "10 µs", "1.00", "100 µs", "1.00"]);
  assert.deepEqual(cells(lat[2]), ["+parse", "30 µs", "3.00", "300 µs", "3.00"]);
});

Deno.test("bench:ladder: a tiny run measures every rung with the task's permissions and cleans up", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const task = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)).tasks["bench:ladder"];
  const args = task.split(/\s+/).slice(1); // after `deno`
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: [...args, "--rounds", "1", "--seconds", "0.3", "--streams", "5", "--rates", "100"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const table = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const tables = table.trim().split("\n\n");
  assert.equal(tables.length, 2, table);
  for (const rows of tables.map((t) => t.split("\n").slice(2))) {
    assert.deepEqual(rows.map((r) => r.split("|")[1].trim()), RUNGS.map((r) => r.name));
    for (const row of rows) {
      assert.doesNotMatch(row, /errors|—|NaN/, `a rung failed or measured nothing: ${row}`);
    }
  }
  const left = [...Deno.readDirSync(`${root}/.tmp`)].filter((e) => e.name.startsWith("bench-"));
  assert.deepEqual(left, [], "the run's scratch directory was not removed");
});

Deno.test("bench:ladder: stopped with SIGTERM mid-run, it stops every server it started", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const task = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)).tasks["bench:ladder"];
  const child = new Deno.Command("deno", {
    args: [...task.split(/\s+/).slice(1), "--rounds", "50", "--seconds", "1", "--rates", "100"],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Wait until it is measuring (every server is up), then stop it.
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("round 1/50")) {
    const { done, value } = await lines.read();
    if (done) break;
    seen += value;
  }
  const started = [...seen.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  child.kill("SIGTERM");
  const status = await child.status;
  await lines.cancel();
  assert.equal(status.code, 130, seen);
  assert.ok(started.length > 0, `no server pids were logged:\n${seen}`);
  for (const pid of started) {
    const { success } = await new Deno.Command("ps", { args: ["-p", String(pid)], stdout: "null" })
      .output();
    assert.equal(success, false, `server ${pid} outlived the run`);
  }
});

import assert from "node:assert/strict";
import {
  isAuthorized,
  never,
  RESET_CONNECTION,
  type SimFactory,
  startSimulator,
} from "../../src/sim/server.ts";
import { sleep } from "../../src/sim/engine.ts";

const encoder = new TextEncoder();

/** A handler with one route per behaviour under test. */
const testSim: SimFactory = (state) => (request, signal) => {
  const path = new URL(request.url).pathname;
  if (path === "/reset") return RESET_CONNECTION;
  if (path === "/hang") {
    return never(signal).then((answer) => {
      hungUp.resolve(true);
      return answer;
    });
  }
  if (path === "/options") return Response.json(state.options);
  if (path === "/echo") {
    return request.text().then((body) => Response.json({ method: request.method, body }));
  }
  if (path === "/auth") {
    return new Response(null, {
      status: isAuthorized(request, state.options.apiKey, { header: "authorization" }) ? 204 : 401,
    });
  }
  if (path === "/cut") {
    return new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode("data: 1\n\n"));
          await sleep(10);
          controller.error(new Error("cut"));
        },
      }),
    );
  }
  // /stream: one event every 40ms; remembers whether the client's disconnect reached us.
  let i = 0;
  return new Response(
    new ReadableStream({
      async pull(controller) {
        if (i > 0 && !await sleep(40, signal)) {
          aborted.resolve(true);
          return controller.close();
        }
        if (i++ === 5) return controller.close();
        controller.enqueue(encoder.encode(`data: ${i}\n\n`));
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
};
let aborted = Promise.withResolvers<boolean>();
let hungUp = Promise.withResolvers<boolean>();

Deno.test("sim server: RESET_CONNECTION makes the client's fetch fail with no response", async () => {
  await using sim = await startSimulator(testSim, {});
  await assert.rejects(fetch(`${sim.origin}/reset`, { method: "POST", body: "{}" }), TypeError);
  // A reused keep-alive connection is reset just the same.
  await (await fetch(`${sim.origin}/options`)).body?.cancel();
  await assert.rejects(fetch(`${sim.origin}/reset`, { method: "POST", body: "{}" }), TypeError);
});

Deno.test("sim server: streamed chunks arrive one by one as the handler sends them", async () => {
  await using sim = await startSimulator(testSim, {});
  const start = performance.now();
  const response = await fetch(`${sim.origin}/stream`);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const arrivals: { text: string; at: number }[] = [];
  for await (const chunk of response.body!) {
    arrivals.push({ text: new TextDecoder().decode(chunk), at: performance.now() - start });
  }
  assert.equal(
    arrivals.map((a) => a.text).join(""),
    "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: 5\n\n",
  );
  assert.ok(arrivals.length >= 4, `expected separate chunks, got ${arrivals.length}`);
  assert.ok(arrivals[0].at < 100, `first chunk took ${arrivals[0].at}ms`);
  assert.ok(arrivals.at(-1)!.at - arrivals[0].at > 120, "later chunks were not held back");
});

Deno.test("sim server: a client disconnect aborts the handler's signal", async () => {
  aborted = Promise.withResolvers<boolean>();
  await using sim = await startSimulator(testSim, {});
  const client = new AbortController();
  const response = await fetch(`${sim.origin}/stream`, { signal: client.signal });
  const reader = response.body!.getReader();
  await reader.read();
  client.abort();
  await reader.cancel().catch(() => {});
  const seenAbort = await Promise.race([aborted.promise, sleep(1000).then(() => false)]);
  assert.equal(seenAbort, true);
});

Deno.test("sim server: a request never answered ends when the client gives up", async () => {
  hungUp = Promise.withResolvers<boolean>();
  await using sim = await startSimulator(testSim, {});
  await assert.rejects(fetch(`${sim.origin}/hang`, { signal: AbortSignal.timeout(50) }));
  assert.equal(await Promise.race([hungUp.promise, sleep(1000).then(() => false)]), true);
});

Deno.test("sim server: a body stream that errors cuts the connection mid-body", async () => {
  await using sim = await startSimulator(testSim, {});
  const response = await fetch(`${sim.origin}/cut`);
  assert.equal(response.status, 200);
  await assert.rejects(response.text());
});

Deno.test("sim server: records requests and passes bodies and methods through", async () => {
  await using sim = await startSimulator(testSim, {});
  const response = await fetch(`${sim.origin}/echo?x=1`, {
    method: "POST",
    body: "héllo",
    headers: {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "x-request-id": "r1",
    },
  });
  assert.deepEqual(await response.json(), { method: "POST", body: "héllo" });
  const last = sim.seen.at(-1)!;
  assert.equal(last.method, "POST");
  assert.equal(last.path, "/echo?x=1");
  assert.equal(last.headers["x-request-id"], "r1");
  assert.match(last.headers.traceparent, /^00-0af7/);
});

Deno.test("sim server: configure() replaces the options handlers read", async () => {
  await using sim = await startSimulator(testSim, { apiKey: "k1" });
  assert.equal(
    (await fetch(`${sim.origin}/auth`, { headers: { authorization: "Bearer k1" } })).status,
    204,
  );
  assert.equal(
    (await fetch(`${sim.origin}/auth`, { headers: { authorization: "Bearer no" } })).status,
    401,
  );
  sim.configure({ latency: { ttft_ms: 1 } });
  assert.deepEqual(await (await fetch(`${sim.origin}/options`)).json(), {
    latency: { ttft_ms: 1 },
  });
  assert.equal((await fetch(`${sim.origin}/auth`)).status, 204);
});

/**
 * The upstream HTTP/1.1 client over real loopback sockets: against Deno.serve for keep-alive and
 * streaming, and against a scripted TCP server for the framings, stale connections and breaks
 * that a well-behaved server never produces.
 */
import assert from "node:assert/strict";
import { Http1Client } from "../../../src/upstream/http1/client.ts";
import { HttpConnectionError } from "../../../src/upstream/http1/connection.ts";
import { HttpProtocolError } from "../../../src/upstream/http1/head.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One request read off a socket: its head and body text. */
interface SeenRequest {
  head: string;
  body: string;
}

/**
 * A TCP server that runs `script` for every connection it accepts; the script reads requests
 * with `next()` and writes raw bytes.
 */
function scriptedServer(
  script: (
    io: { next(): Promise<SeenRequest | null>; write(text: string): Promise<void>; close(): void },
    index: number,
  ) => Promise<void>,
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: SeenRequest[] = [];
  const sockets: Deno.Conn[] = [];
  let accepted = 0;
  const tasks: Promise<void>[] = [];
  const serving = (async () => {
    for await (const socket of listener) {
      sockets.push(socket);
      const index = accepted++;
      let pending = new Uint8Array(0);
      const io = {
        async next(): Promise<SeenRequest | null> {
          while (true) {
            const text = decoder.decode(pending);
            const end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
              const head = text.slice(0, end);
              const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
              const bodyStart = encoder.encode(text.slice(0, end + 4)).length;
              if (pending.length >= bodyStart + length) {
                const body = decoder.decode(pending.subarray(bodyStart, bodyStart + length));
                pending = pending.slice(bodyStart + length);
                const seen = { head, body };
                requests.push(seen);
                return seen;
              }
            }
            const buffer = new Uint8Array(65536);
            let n: number | null = null;
            try {
              n = await socket.read(buffer);
            } catch {
              return null;
            }
            if (n === null) return null;
            const joined = new Uint8Array(pending.length + n);
            joined.set(pending);
            joined.set(buffer.subarray(0, n), pending.length);
            pending = joined;
          }
        },
        async write(text: string) {
          const bytes = encoder.encode(text);
          let written = 0;
          while (written < bytes.length) written += await socket.write(bytes.subarray(written));
        },
        close() {
          try {
            socket.close();
          } catch { /* closed */ }
        },
      };
      tasks.push(script(io, index).catch(() => {}).finally(() => io.close()));
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    requests,
    get accepted() {
      return accepted;
    },
    /** Closes every connection from the server's side. */
    cut() {
      for (const socket of sockets) {
        try {
          socket.close();
        } catch { /* closed */ }
      }
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const socket of sockets) {
        try {
          socket.close();
        } catch { /* closed */ }
      }
      await serving.catch(() => {});
      await Promise.all(tasks);
    },
  };
}

const json = (body: string) =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${
    encoder.encode(body).length
  }\r\n\r\n${body}`;

const post = (client: Http1Client, url: string, body = '{"model":"m"}', signal?: AbortSignal) =>
  client.request(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "r1" },
    body,
    signal,
  });

Deno.test("http1 client: sequential requests share one kept-alive connection (Deno.serve)", async () => {
  const seen: string[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      seen.push(`${req.method} ${new URL(req.url).pathname} ${req.headers.get("x-request-id")}`);
      return Response.json({ echo: await req.json() });
    },
  );
  const client = new Http1Client();
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/chat/completions`;
    for (let i = 0; i < 20; i++) {
      const response = await post(client, url, JSON.stringify({ i, text: "héllo 😀" }));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/json");
      assert.deepEqual(JSON.parse(await response.text()), { echo: { i, text: "héllo 😀" } });
    }
    assert.equal(client.stats.connects, 1);
    assert.equal(client.stats.reuses, 19);
    assert.equal(seen[0], "POST /v1/chat/completions r1");
    assert.equal(client.idleCount, 1);
    // What the connection metric reads: one idle connection; one active while a body is unread.
    const origin = { address: "127.0.0.1", port: server.addr.port };
    assert.deepEqual(client.connections(), [{ ...origin, active: 0, idle: 1 }]);
    const open = await post(client, url, "{}");
    assert.deepEqual(client.connections(), [{ ...origin, active: 1, idle: 0 }]);
    await open.text();
    assert.deepEqual(client.connections(), [{ ...origin, active: 0, idle: 1 }]);
    // A body left unread and cancelled closes its connection: neither active nor idle after.
    const dropped = await post(client, url, "{}");
    dropped.body!.cancel();
    assert.deepEqual(client.connections(), [{ ...origin, active: 0, idle: 0 }]);
    const again = await post(client, url, "{}");
    assert.deepEqual(client.connections(), [{ ...origin, active: 1, idle: 0 }]);
    client.close();
    assert.deepEqual(client.connections(), [{ ...origin, active: 0, idle: 0 }]);
    await again.text().catch(() => {});
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a multi-megabyte request and response cross intact (partial writes, many reads)", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const text = await req.text();
      return new Response(
        `${text.length}:${text.slice(0, 8)}:${text.slice(-8)}:${"é".repeat(1_000_000)}`,
      );
    },
  );
  const client = new Http1Client();
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/chat/completions`;
    const body = `{"p":"${"ab😀".repeat(600_000)}"}`;
    const response = await post(client, url, body);
    const text = await response.text();
    assert.equal(
      text,
      `${body.length}:${body.slice(0, 8)}:${body.slice(-8)}:${"é".repeat(1_000_000)}`,
    );
    assert.equal(await (await post(client, url, "{}")).text(), `2:{}:{}:${"é".repeat(1_000_000)}`);
    assert.equal(client.stats.connects, 1);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a streamed body arrives read by read, as the server writes it", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode("data: one\n\n"));
        await gate; // the second event waits until the client has read the first
        controller.enqueue(encoder.encode("data: two\n\n"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const client = new Http1Client();
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/chat/completions`;
    const response = await post(client, url);
    const reader = response.body!;
    assert.equal(decoder.decode(await reader.read()), "data: one\n\n");
    release();
    let rest = "";
    for (let bytes = await reader.read(); bytes; bytes = await reader.read()) {
      rest += decoder.decode(bytes);
    }
    assert.equal(rest, "data: two\n\n");
    // Read to its end, the connection serves the next request.
    const again = await post(client, url);
    await again.text();
    assert.equal(client.stats.connects, 1);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: content-length, chunked and read-to-close bodies, and 100 Continue", async () => {
  const replies = [
    json('{"a":1}'),
    "HTTP/1.1 100 Continue\r\n\r\n" + json('{"b":2}'),
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{"c\r\n4;ext=1\r\n":3}\r\n0\r\n\r\n',
  ];
  await using server = scriptedServer(async (io) => {
    for (const reply of replies) {
      if (!await io.next()) return;
      // Byte by byte: every split of the head and the framing.
      for (const char of reply) await io.write(char);
    }
    if (!await io.next()) return;
    await io.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil close");
    io.close();
  });
  const client = new Http1Client();
  try {
    assert.equal(await (await post(client, server.url)).text(), '{"a":1}');
    assert.equal(await (await post(client, server.url)).text(), '{"b":2}');
    assert.equal(await (await post(client, server.url)).text(), '{"c":3}');
    assert.equal(await (await post(client, server.url)).text(), "until close");
    assert.equal(server.accepted, 1);
    assert.equal(client.idleCount, 0, "a read-to-close body ends its connection");
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a kept-alive connection the server closed while idle is retried once, transparently", async () => {
  await using server = scriptedServer(async (io) => {
    if (!await io.next()) return;
    await io.write(json('{"n":1}'));
    io.close(); // closes right after answering, as a short keep-alive timeout does
  });
  const client = new Http1Client();
  try {
    assert.equal(await (await post(client, server.url)).text(), '{"n":1}');
    assert.equal(client.idleCount, 1, "the connection looked reusable");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await (await post(client, server.url)).text(), '{"n":1}');
    assert.equal(client.stats.staleRetries, 1);
    assert.equal(client.stats.connects, 2);
    assert.equal(server.requests.length, 2, "the server answered each request once");
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a fresh connection closed without an answer is an error, and the request is not sent again", async () => {
  await using server = scriptedServer(async (io) => {
    await io.next(); // takes the request, then hangs up without a byte
  });
  const client = new Http1Client();
  try {
    await assert.rejects(
      post(client, server.url),
      (error) => error instanceof HttpConnectionError && error.phase === "unanswered",
    );
    assert.equal(server.requests.length, 1, "sent once");
    assert.equal(client.stats.staleRetries, 0);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: when every idle connection went stale, the one retry opens a fresh connection", async () => {
  let answered = 0;
  let bothIn!: () => void;
  const together = new Promise<void>((resolve) => bothIn = resolve);
  await using server = scriptedServer(async (io) => {
    if (!await io.next()) return;
    if (++answered === 2) bothIn();
    await together; // two requests in flight: two connections
    await io.write(json('{"n":1}'));
    if (answered <= 2) io.close(); // then both are closed while idle
    else await io.next();
  });
  const client = new Http1Client();
  try {
    const first = await Promise.all([post(client, server.url), post(client, server.url)]);
    await Promise.all(first.map((response) => response.text()));
    assert.equal(client.idleCount, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await (await post(client, server.url)).text(), '{"n":1}');
    assert.equal(client.stats.staleRetries, 1);
    assert.equal(client.stats.connects, 3);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: idle connections past the idle timeout are closed without another request", async () => {
  let closedByClient!: () => void;
  const closed = new Promise<void>((resolve) => closedByClient = resolve);
  await using server = scriptedServer(async (io) => {
    if (!await io.next()) return;
    await io.write(json("{}"));
    if (await io.next() === null) closedByClient(); // the client hung up, unprompted
  });
  const client = new Http1Client({ idleTimeoutMs: 60 });
  try {
    await (await post(client, server.url)).text();
    assert.equal(client.idleCount, 1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const inTime = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), 2_000)),
    ]);
    clearTimeout(timer);
    assert.ok(inTime, "the idle connection was closed within 2 s");
    assert.equal(client.idleCount, 0);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: connection: close, bytes past the body and an early end are never reused", async () => {
  await using server = scriptedServer(async (io, index) => {
    if (!await io.next()) return;
    if (index === 0) {
      await io.write(json("{}").replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n"));
    } else if (index === 1) await io.write(json("{}") + "garbage");
    else await io.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort");
    await io.next();
  });
  const client = new Http1Client();
  try {
    assert.equal(await (await post(client, server.url)).text(), "{}");
    assert.equal(client.idleCount, 0);
    assert.equal(await (await post(client, server.url)).text(), "{}");
    assert.equal(client.idleCount, 0);
    const cut = await post(client, server.url);
    const reading = cut.text();
    // The server holds the socket open: close it from its side to cut the body.
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.cut();
    await assert.rejects(
      reading,
      (error) => error instanceof HttpConnectionError && error.phase === "body",
    );
    assert.equal(client.stats.connects, 3);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a malformed response is a protocol error; no server is a connect error", async () => {
  await using server = scriptedServer(async (io) => {
    if (!await io.next()) return;
    await io.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nXYZ\r\n");
    await io.next();
  });
  const client = new Http1Client();
  try {
    const response = await post(client, server.url);
    await assert.rejects(response.text(), HttpProtocolError);
    assert.match(server.requests[0].head, /\r\naccept-encoding: identity\r\n/);
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    await assert.rejects(
      post(client, `http://127.0.0.1:${port}/v1`),
      (error) => error instanceof HttpConnectionError && error.phase === "connect",
    );
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a compressed body, though identity was asked for, is refused and its connection dropped", async () => {
  await using server = scriptedServer(async (io) => {
    if (!await io.next()) return;
    await io.write(json("xxxx").replace("\r\n\r\n", "\r\ncontent-encoding: gzip\r\n\r\n"));
    await io.next();
  });
  const client = new Http1Client();
  try {
    await assert.rejects(post(client, server.url), /content-encoding gzip/);
    assert.equal(client.idleCount, 0);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: aborting mid-stream closes the socket and rejects the read with the reason", async () => {
  let serverSawClose!: () => void;
  const closed = new Promise<void>((resolve) => serverSawClose = resolve);
  await using server = scriptedServer(async (io) => {
    if (!await io.next()) return;
    await io.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nfirst!\r\n");
    // The body never ends; the server sees the client hang up.
    if (await io.next() === null) serverSawClose();
  });
  const client = new Http1Client();
  try {
    const controller = new AbortController();
    const response = await post(client, server.url, "{}", controller.signal);
    const reader = response.body!;
    assert.equal(decoder.decode(await reader.read()), "first!");
    const reading = reader.read();
    controller.abort(new Error("deadline"));
    await assert.rejects(reading);
    await closed;
    assert.equal(client.idleCount, 0);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a released stream reads its terminator in the background and the connection serves again", async () => {
  let sendTerminator!: () => void;
  const terminator = new Promise<void>((resolve) => sendTerminator = resolve);
  await using server = scriptedServer(async (io) => {
    if (!await io.next()) return;
    await io.write(
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nE\r\ndata: [DONE]\n\n\r\n",
    );
    await terminator;
    await io.write("0\r\n\r\n");
    if (!await io.next()) return;
    await io.write(json('{"second":true}'));
    await io.next();
  });
  const client = new Http1Client();
  try {
    const response = await post(client, server.url);
    const reader = response.body!;
    assert.equal(decoder.decode(await reader.read()), "data: [DONE]\n\n");
    reader.release(); // the caller saw its terminal event and stops reading
    sendTerminator();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(client.idleCount, 1);
    assert.equal(await (await post(client, server.url)).text(), '{"second":true}');
    assert.equal(server.accepted, 1);
  } finally {
    client.close();
  }
});

Deno.test("http1 client: a header value carrying CRLF is refused before anything is sent", async () => {
  await using server = scriptedServer(async (io) => {
    await io.next();
  });
  const client = new Http1Client();
  try {
    await assert.rejects(
      client.request(server.url, {
        method: "POST",
        headers: { "x-request-id": "a\r\nx-injected: 1" },
        body: "{}",
      }),
      HttpProtocolError,
    );
    assert.equal(client.stats.connects, 0);
  } finally {
    client.close();
  }
});

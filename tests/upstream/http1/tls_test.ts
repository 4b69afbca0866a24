/**
 * The upstream client over TLS: certificates are checked against the same roots as `fetch`
 * (`DENO_CERT` adds one), and the connection is kept alive like a plain one.
 */
import assert from "node:assert/strict";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../../fixtures/tls/${name}`, import.meta.url));

async function runClient(url: string, env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=localhost,127.0.0.1",
      "--allow-read",
      new URL("./tls_client.ts", import.meta.url).pathname,
      url,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("http1 client over TLS: a trusted certificate serves two requests on one connection; an unknown issuer is refused", async () => {
  await using server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: fixture("server.pem"),
    key: fixture("server.key"),
    onListen() {},
  }, async (request) => Response.json({ got: await request.json() }));
  const url = `https://localhost:${server.addr.port}/v1/chat/completions`;

  const trusted = await runClient(url, {
    DENO_CERT: new URL("../../fixtures/tls/ca.pem", import.meta.url).pathname,
  });
  assert.equal(trusted.code, 0, trusted.stderr);
  const result = JSON.parse(trusted.stdout);
  assert.deepEqual(result.bodies.map((b: string) => JSON.parse(b)), [
    { got: { i: 0 } },
    { got: { i: 1 } },
  ]);
  assert.equal(result.stats.connects, 1);
  assert.equal(result.stats.reuses, 1);

  const untrusted = await runClient(url, {});
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /UnknownIssuer|certificate/i);
});

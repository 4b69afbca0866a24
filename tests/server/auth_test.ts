/** Client keys (a keys file holding only hashes) and the admin key, over loopback. */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { hashApiKey, mintApiKey } from "../../src/budget/keys.ts";
import { chat, hello, startTestServer } from "./harness.ts";

const ADMIN_KEY = "admin-key-0123456789abcdef";

async function serverWithKeys() {
  const key = mintApiKey();
  const dir = await Deno.makeTempDir();
  const keysFile = `${dir}/keys.yaml`;
  await Deno.writeTextFile(
    keysFile,
    `keys:\n  - id: k-app\n    name: App\n    team: { id: t-core, name: Core }\n    tags: [anthropic]\n    sha256: ${await hashApiKey(
      key,
    )}\n`,
  );
  const server = await startTestServer({ config: { keysFile, adminKey: ADMIN_KEY } });
  return { key, server, dir };
}

Deno.test("auth: with keys configured, a missing or unknown key is a 401 in OpenAI's shape", async () => {
  const { server, dir } = await serverWithKeys();
  try {
    const missing = await chat(server, hello());
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).error.code, "missing_api_key");
    const wrong = await chat(server, hello(), { authorization: "Bearer sy-not-a-real-key" });
    assert.equal(wrong.status, 401);
    const body = await wrong.json();
    assert.equal(body.error.type, "authentication_error");
    assert.equal(body.error.code, "invalid_api_key");
    const models = await fetch(`${server.url}/v1/models`);
    assert.equal(models.status, 401);
    await models.body?.cancel();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("auth: a valid key is accepted by the SDK and its key, team and tags become facts", async () => {
  const { key, server, dir } = await serverWithKeys();
  try {
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "hi" }],
    }).withResponse();
    // The key's tag `anthropic` routes it, as a header tag would.
    assert.equal(response.headers.get("x-switchyard-rule"), "to-anthropic");
    const route = await (await fetch(`${server.url}/v1/route`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify(hello()),
    })).json();
    assert.deepEqual(route.facts.key, { id: "k-app", name: "App" });
    assert.deepEqual(route.facts.team, { id: "t-core", name: "Core" });
    assert.deepEqual(route.facts.tags, ["anthropic"]);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("auth: admin endpoints need the admin key, not a client key", async () => {
  const { key, server, dir } = await serverWithKeys();
  try {
    for (const path of ["/v1/policy", "/v1/spend"]) {
      const anonymous = await fetch(`${server.url}${path}`);
      assert.equal(anonymous.status, 401, path);
      await anonymous.body?.cancel();
      const client = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(client.status, 403, path);
      await client.body?.cancel();
      const admin = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      assert.equal(admin.status, 200, path);
      await admin.body?.cancel();
    }
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

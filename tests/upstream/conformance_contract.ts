/**
 * Conformance cases for the adapter contract itself: the metadata `routing/` and telemetry read,
 * and purity of `request()` (no I/O, no mutation), so the generic pipeline never needs to know
 * which provider it is talking to.
 */
import assert from "node:assert/strict";
import { PROVIDERS, type UpstreamTarget } from "../../src/upstream/adapter.ts";
import type { ChatRequest } from "../../src/upstream/types.ts";
import type { ConformanceSpec } from "./conformance.ts";

const TARGET: Omit<UpstreamTarget, "provider"> = {
  route: "contract",
  model: "target-model",
  baseUrl: "http://127.0.0.1:9/base",
  apiKey: "secret-key-123",
};

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Registers the contract cases for `spec`. */
export function registerContractCases(spec: ConformanceSpec): void {
  const { adapter } = spec;
  const test = (name: string, fn: () => void | Promise<void>) =>
    Deno.test(`${spec.name} conformance: ${name}`, fn);

  test("the adapter describes itself with the data routing and telemetry need", () => {
    assert.ok(PROVIDERS.includes(adapter.provider));
    assert.match(adapter.genAiProviderName, /^[a-z_.]+$/);
    assert.equal(typeof adapter.defaultApiKeyEnv, "string");
    if (adapter.defaultBaseUrl) assert.doesNotMatch(adapter.defaultBaseUrl, /\/$/);
  });

  test("request() is a pure function of its inputs and leaves the request untouched", () => {
    const target: UpstreamTarget = { ...TARGET, provider: adapter.provider, ...spec.target };
    const req = deepFreeze<ChatRequest>({
      model: "client-model",
      stream: true,
      max_tokens: 20,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hello" }] },
      ],
    });
    const first = adapter.request(req, target, { includeUsage: true });
    const second = adapter.request(req, target, { includeUsage: true });
    assert.deepEqual(first, second);
    assert.ok(first.url.startsWith(target.baseUrl + "/"), `${first.url} is under the base URL`);
    assert.doesNotMatch(first.body, /secret-key-123/, "the key travels in a header, not the body");
    assert.ok(
      Object.values(first.headers).some((v) => v.includes("secret-key-123")) ||
        first.url.includes("secret-key-123"),
      "the key is sent",
    );
    const contentType = Object.entries(first.headers)
      .find(([name]) => name.toLowerCase() === "content-type")?.[1];
    assert.match(contentType ?? "", /application\/json/);
    assert.match(first.body + first.url, /target-model/, "the target's model is used");
    assert.doesNotMatch(first.body + first.url, /client-model/, "the client's model is replaced");
  });

  test("error() classifies bare statuses without a provider body", () => {
    const kinds = [429, 401, 403, 500, 503, 404].map((status) =>
      adapter.error(status, "<html>upstream broke</html>", new Headers()).kind
    );
    assert.deepEqual(kinds, [
      "rate_limited",
      "auth",
      "auth",
      "server_error",
      "server_error",
      "client_error",
    ]);
  });
}

import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";
import { createUpstreamClient } from "../src/upstream/transport.ts";

const noEnv = () => undefined;

Deno.test("config: --response-headers takes full (the default) or minimal, from a flag or the environment", () => {
  assert.equal(loadConfig([], noEnv).responseHeaders, "full");
  assert.equal(loadConfig(["--response-headers", "minimal"], noEnv).responseHeaders, "minimal");
  const env = (name: string) => name === "SWITCHYARD_RESPONSE_HEADERS" ? "minimal" : undefined;
  assert.equal(loadConfig([], env).responseHeaders, "minimal");
  assert.throws(
    () => loadConfig(["--response-headers", "none"], noEnv),
    (error) => error instanceof ConfigError && /response-headers/.test(error.message),
  );
});

Deno.test("config: --upstream-client auto picks the own HTTP/1.1 client, or fetch when a proxy is set", () => {
  assert.equal(loadConfig([], noEnv).upstreamClient, "auto");
  assert.equal(loadConfig(["--upstream-client", "fetch"], noEnv).upstreamClient, "fetch");
  const env = (name: string) => name === "SWITCHYARD_UPSTREAM_CLIENT" ? "http1" : undefined;
  assert.equal(loadConfig([], env).upstreamClient, "http1");
  assert.throws(
    () => loadConfig(["--upstream-client", "curl"], noEnv),
    (error) => error instanceof ConfigError && /upstream-client/.test(error.message),
  );
  const proxy = (name: string) => name === "https_proxy" ? "http://proxy:3128" : undefined;
  assert.equal(createUpstreamClient("auto", noEnv).kind, "http1");
  assert.equal(createUpstreamClient("auto", proxy).kind, "fetch");
  assert.equal(createUpstreamClient("http1", proxy).kind, "http1");
  assert.equal(createUpstreamClient("fetch", noEnv).kind, "fetch");
});

import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";

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

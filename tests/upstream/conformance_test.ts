import assert from "node:assert/strict";
import { PROVIDERS } from "../../src/upstream/adapter.ts";

const SUITE = [
  "conformance.ts",
  "conformance_chat.ts",
  "conformance_client.ts",
  "conformance_contract.ts",
  "conformance_faults.ts",
];

Deno.test("conformance: the suite uses only the Adapter interface, never a provider", async () => {
  for (const file of SUITE) {
    const source = await Deno.readTextFile(new URL(file, import.meta.url));
    const imports = [...source.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    for (const path of imports) {
      assert.ok(
        !/src\/upstream\/(?!adapter|types|errors|sse)[^/]+\/|src\/sim\/(?!server|engine)/.test(
          path,
        ),
        `${file} imports ${path}, a provider's module`,
      );
    }
    const code = source.replace(/\/\*\*[\s\S]*?\*\//g, ""); // the header's example may name one
    for (const provider of PROVIDERS) {
      assert.doesNotMatch(code, new RegExp(`["'\`]${provider}["'\`]`), `${file} names ${provider}`);
    }
  }
});

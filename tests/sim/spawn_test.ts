import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("serve loads no simulator code: only the spawner and the provider table", async () => {
  // Simulators run as child processes; any of their modules in serve's graph would sit in the
  // router's heap for nothing (and every major garbage collection walks it).
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: ["info", "--json", "src/cli/serve.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string }[];
  };
  const sim = graph.modules.map((m) => m.specifier).filter((s) => s.includes("/src/sim/"))
    .map((s) => s.slice(s.indexOf("/src/sim/") + 1)).sort();
  assert.deepEqual(sim, ["src/sim/providers.ts", "src/sim/spawn.ts"]);
  // …while serve does reach the server itself, so the graph above is the real one.
  assert.ok(graph.modules.some((m) => m.specifier.endsWith("/src/server/chat.ts")));
});

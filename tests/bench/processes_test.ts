import assert from "node:assert/strict";
import { cpuSeconds, parseProcStatCpu } from "./processes.ts";

Deno.test("parseProcStatCpu: utime + stime in seconds, counted from the end of the command name", () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  const line = "4242 (deno (x) y) S 1 4242 4242 0 -1 4194560 9000 0 12 0 250 37 0 0 20 0 9 0";
  assert.equal(parseProcStatCpu(line), 2.87);
  assert.equal(parseProcStatCpu("garbage"), undefined);
});

Deno.test({
  name: "cpuSeconds: this process's CPU time grows while it computes",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const before = await cpuSeconds(Deno.pid);
    assert.ok(before !== undefined);
    // Busy for 300 ms of wall time: even with half a CPU, far past the 10 ms tick the kernel
    // counts in.
    const end = performance.now() + 300;
    while (performance.now() < end) Math.sqrt(Math.random());
    const after = await cpuSeconds(Deno.pid);
    assert.ok(after! - before >= 0.05, `${before} → ${after}`);
  },
});

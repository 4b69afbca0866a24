/**
 * The benchmark's servers as child processes: started on port 0, ready when they print
 * `listening on http://127.0.0.1:<port>`, their output kept (last lines only) for error messages,
 * and stopped by pid with SIGTERM, then SIGKILL if they linger, so a run leaves nothing behind.
 */

/** A started server. */
export interface Server {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** The last lines the process wrote, stdout and stderr together. */
  output(): string;
  /** Resolves with the first line (already written or still to come) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

/** What to start. */
export interface ServerSpec {
  name: string;
  args: string[];
  /** The child's whole environment: nothing is inherited. */
  env: Record<string, string>;
  cwd?: string;
  readyTimeoutMs?: number;
}

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const KEEP_LINES = 60;

/** Output lines, the last few kept, with waiters for a line that matches. */
class Lines {
  readonly kept: string[] = [];
  #waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  #closed = Promise.withResolvers<void>();

  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > KEEP_LINES) this.kept.shift();
    const matched = this.#waiters.filter((w) => w.pattern.test(line));
    if (matched.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !matched.includes(w));
    for (const waiter of matched) waiter.resolve(line);
  }

  close(): void {
    this.#closed.resolve();
  }

  async waitFor(name: string, pattern: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.kept.find((line) => pattern.test(line));
    if (seen !== undefined) return seen;
    const found = Promise.withResolvers<string>();
    this.#waiters.push({ pattern, resolve: found.resolve });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        found.promise,
        this.#closed.promise.then(() => {
          throw new Error(`${name} exited before printing ${pattern}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${name} did not print ${pattern} in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts `deno` with `args` and waits until it says where it listens. */
export async function startServer(spec: ServerSpec): Promise<Server> {
  const child = new Deno.Command("deno", {
    args: spec.args,
    env: spec.env,
    clearEnv: true,
    cwd: spec.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = new Lines();
  const drained = Promise.all([collect(child.stdout, lines), collect(child.stderr, lines)])
    .then(() => lines.close());
  let stopping: Promise<void> | undefined;
  const stop = () => stopping ??= terminate(child).then(() => drained);
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    lines.waitFor(spec.name, pattern, timeoutMs);
  try {
    const line = await waitFor(LISTENING, spec.readyTimeoutMs ?? 30_000);
    const port = Number(LISTENING.exec(line)![1]);
    return {
      name: spec.name,
      pid: child.pid,
      port,
      output: () => lines.kept.join("\n"),
      waitFor,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${lines.kept.join("\n")}`);
  }
}

async function collect(stream: ReadableStream<Uint8Array>, lines: Lines): Promise<void> {
  let buffer = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const part of parts) lines.push(part);
  }
  if (buffer) lines.push(buffer);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function terminate(child: Deno.ChildProcess, graceMs = 5_000): Promise<void> {
  if (!signal(child, "SIGTERM")) {
    await child.status;
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), graceMs)),
  ]);
  clearTimeout(timer);
  if (!exited) signal(child, "SIGKILL");
  await child.status;
}

/** Sends a signal; false when the process had already exited. */
function signal(child: Deno.ChildProcess, name: Deno.Signal): boolean {
  try {
    child.kill(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * A process's resident set size in KiB. Deno only lets a process read /proc with --allow-all, so
 * this asks `ps`, whose `rss` is the same kernel counter as VmRSS in /proc/<pid>/status.
 */
export async function rssKiB(pid: number): Promise<number> {
  const { stdout, success } = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const kib = Number(new TextDecoder().decode(stdout).trim());
  if (!success || !Number.isFinite(kib) || kib <= 0) throw new Error(`No RSS for pid ${pid}`);
  return kib;
}

/**
 * Linux reports process CPU times in clock ticks of `USER_HZ`, which the kernel fixes at 100 for
 * user space (`getconf CLK_TCK`), whatever its internal tick rate.
 */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU seconds of a process (all its threads: V8's helpers and the OTLP exporter
 * count), from the `utime` and `stime` fields of `/proc/<pid>/stat`; undefined where there is no
 * `/proc` (macOS). Read by `cat`, as Deno lets only `--allow-all` read /proc.
 */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  const { stdout, success } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => ({ stdout: new Uint8Array(), success: false }));
  if (!success) return undefined;
  return parseProcStatCpu(new TextDecoder().decode(stdout));
}

/** `utime + stime` of a `/proc/<pid>/stat` line, in seconds. */
export function parseProcStatCpu(stat: string): number | undefined {
  // The command name (field 2) is in parentheses and may hold spaces: count from its end.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks / TICKS_PER_SECOND : undefined;
}

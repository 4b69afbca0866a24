/**
 * `switchyard serve` as a real child process for tests: spawned with a clean environment (no API
 * keys, no OTEL or SWITCHYARD settings from the developer's shell), its stdout and stderr read
 * line by line, its port taken from the banner.
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** Variables a developer's shell may hold that would change what the server does. */
const LEAKY = /(_API_KEY|^OTEL_.*|^SWITCHYARD_.*|^PORT|^HOST)$/;

/** A running server process. */
export interface ServeProcess extends AsyncDisposable {
  /** Origin from the banner, e.g. http://127.0.0.1:41234 */
  url: string;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code. */
  status: Promise<Deno.CommandStatus>;
  /** True once the process has exited. */
  readonly exited: boolean;
  kill(signal: Deno.Signal): void;
  /** Waits (bounded) for a stderr line matching `pattern`. */
  waitForLog(pattern: RegExp, ms?: number): Promise<string>;
}

/** Collects a stream's lines; `wait` resolves once a line matches. */
function lines(stream: ReadableStream<Uint8Array>) {
  const seen: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const done = (async () => {
    let buffer = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        seen.push(line);
        for (const waiter of [...waiters]) {
          if (!waiter.pattern.test(line)) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
    if (buffer) seen.push(buffer);
  })();
  const wait = (pattern: RegExp, ms: number, what: string): Promise<string> => {
    const found = seen.find((line) => pattern.test(line));
    if (found !== undefined) return Promise.resolve(found);
    const { promise, resolve, reject } = Promise.withResolvers<string>();
    const timer = setTimeout(() => {
      waiters.splice(waiters.findIndex((w) => w.resolve === resolve), 1);
      reject(new Error(`no ${what} line matching ${pattern} within ${ms} ms:\n${seen.join("\n")}`));
    }, ms);
    waiters.push({ pattern, resolve });
    return promise.finally(() => clearTimeout(timer));
  };
  return { seen, done, wait };
}

/** Starts `src/cli.ts serve --port 0 …args` and resolves once the banner names its address. */
export async function spawnServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const clean = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !LEAKY.test(name)),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-no-legacy-abort",
      "-A",
      "src/cli.ts",
      "serve",
      "--port",
      "0",
      ...args,
    ],
    cwd: ROOT,
    env: { SWITCHYARD_STORE: "none", ...clean, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = lines(child.stdout);
  const err = lines(child.stderr);
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await Promise.all([out.done, err.done]);
    return s;
  });
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  };
  const close = async () => {
    kill("SIGKILL");
    await status;
  };
  try {
    const banner = await Promise.race([
      out.wait(/^Switchyard listening on /, 15_000, "stdout"),
      status.then((s) => {
        throw new Error(`serve exited with ${s.code} before listening:\n${err.seen.join("\n")}`);
      }),
    ]);
    return {
      url: banner.slice("Switchyard listening on ".length),
      stdout: out.seen,
      stderr: err.seen,
      status,
      get exited() {
        return exited;
      },
      kill,
      waitForLog: (pattern, ms = 5_000) => err.wait(pattern, ms, "stderr"),
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

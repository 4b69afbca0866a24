/**
 * The active policy and its hot reload. Policy files are watched; a burst of change events (editors
 * save in several) is debounced into one reload. A valid file swaps in atomically — requests
 * already running keep the `ActivePolicy` they started with — and an invalid one is rejected with
 * its `file:line:col` problems while the last good policy keeps serving.
 */
import { type EnvLookup, loadPolicy } from "../policy/load.ts";
import { formatProblem, PolicyError, type PolicyProblem } from "../policy/problems.ts";
import { activate, type ActivePolicy, type ResolveOptions } from "../routing/runtime.ts";

/** The state `/v1/policy` reports. */
export interface PolicyStatus {
  name: string;
  version: string;
  hash: string;
  file: string;
  loaded_at: string;
  reloads: number;
  last_reload_error: null | { at: string; problems: PolicyProblem[] };
}

export interface PolicyHolderOptions extends Omit<ResolveOptions, "env"> {
  file: string;
  env: EnvLookup;
  debounceMs: number;
  log: (line: string) => void;
}

/** Holds the active policy; `current` is what a new request should use. */
export class PolicyHolder {
  #current: ActivePolicy;
  #options: PolicyHolderOptions;
  #reloads = 0;
  #lastError: PolicyStatus["last_reload_error"] = null;
  #watcher?: Deno.FsWatcher;
  #timer?: ReturnType<typeof setTimeout>;
  /** The reload running now: reloads run one at a time, so an older read never wins. */
  #reloading: Promise<unknown> = Promise.resolve();
  #closed = false;
  #listeners: ((active: ActivePolicy) => void)[] = [];

  private constructor(current: ActivePolicy, options: PolicyHolderOptions) {
    this.#current = current;
    this.#options = options;
  }

  /** Loads the policy (throws PolicyError when it is invalid: the server must not start). */
  static async load(options: PolicyHolderOptions): Promise<PolicyHolder> {
    const policy = await loadPolicy(options.file, { env: options.env, requireEnv: true });
    return new PolicyHolder(activate(policy, { ...options }), options);
  }

  get current(): ActivePolicy {
    return this.#current;
  }

  /** Called after every successful swap. */
  onSwap(listener: (active: ActivePolicy) => void): void {
    this.#listeners.push(listener);
  }

  status(): PolicyStatus {
    const p = this.#current.policy;
    return {
      name: p.name,
      version: p.version,
      hash: p.hash,
      file: p.file,
      loaded_at: p.loadedAt.toISOString(),
      reloads: this.#reloads,
      last_reload_error: this.#lastError,
    };
  }

  /** Re-reads the file now; returns whether the file's policy is active. */
  reload(): Promise<boolean> {
    const run = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = run.catch(() => {});
    return run;
  }

  async #reloadNow(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      const policy = await loadPolicy(this.#options.file, {
        env: this.#options.env,
        requireEnv: true,
      });
      if (this.#closed) return false;
      // The file is valid again: a rejected edit that was undone is no longer an error.
      this.#lastError = null;
      if (policy.hash === this.#current.policy.hash) return true; // content unchanged
      this.#current = activate(policy, this.#options);
      this.#reloads++;
      this.#options.log(
        `policy reloaded: ${policy.name} ${policy.version} (${policy.hash}) from ${policy.file}`,
      );
      for (const listener of this.#listeners) listener(this.#current);
      return true;
    } catch (error) {
      const problems = error instanceof PolicyError ? error.problems : [{
        file: this.#options.file,
        line: 1,
        col: 1,
        message: String(error),
        severity: "error" as const,
      }];
      this.#lastError = { at: new Date().toISOString(), problems };
      this.#options.log(
        `policy reload rejected; still serving ${this.#current.policy.name} (${this.#current.policy.hash}):\n` +
          problems.filter((p) => p.severity === "error").map(formatProblem).join("\n"),
      );
      return false;
    }
  }

  /** Starts watching the policy file's directory (editors often replace files by renaming). */
  watch(): void {
    if (this.#watcher) return;
    const file = this.#options.file;
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
    const name = file.slice(file.lastIndexOf("/") + 1);
    this.#watcher = Deno.watchFs(dir, { recursive: false });
    (async () => {
      try {
        for await (const event of this.#watcher!) {
          if (!event.paths.some((p) => p.endsWith(`/${name}`) || p === name)) continue;
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => void this.reload(), this.#options.debounceMs);
        }
      } catch {
        // The watcher was closed.
      }
    })();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    try {
      this.#watcher?.close();
    } catch {
      // Already closed.
    }
    this.#watcher = undefined;
  }
}

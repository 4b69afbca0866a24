/**
 * The stateful services around the request path, opened once at start-up from the configuration:
 * client keys (auth), budgets and the spend ledger, the decision log, and the shadow policy.
 * Everything opened here is closed by `close()`.
 */
import { createKeyRing } from "../budget/keys.ts";
import { createLedger, type Ledger } from "../budget/ledger.ts";
import { loadBudgets, loadKeys } from "../budget/load.ts";
import { openStore } from "../budget/open.ts";
import type { Budget, ClientKey } from "../budget/types.ts";
import type { Config } from "../config.ts";
import type { EnvLookup } from "../policy/load.ts";
import type { ResolveOptions } from "../routing/runtime.ts";
import { createDecisionLog, type DecisionLog } from "../log/writer.ts";
import type { Authenticator } from "./auth.ts";
import { PolicyHolder } from "./policies.ts";
import { observeDecisionLogFailures } from "../telemetry/metrics.ts";

export interface Services {
  auth?: Authenticator;
  ledger?: Ledger;
  decisionLog?: DecisionLog;
  shadow?: PolicyHolder;
  logSalt: string;
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Opens every configured service; throws PolicyError for an invalid keys or budgets file. */
export async function openServices(
  config: Config,
  options: {
    env: EnvLookup;
    log: (line: string) => void;
    resolve: Omit<ResolveOptions, "env">;
    auth?: Authenticator;
  },
): Promise<Services> {
  const opened: { close(): Promise<void> | void }[] = [];
  const close = async () => {
    for (const service of opened.reverse()) await service.close();
  };
  try {
    let keys: readonly ClientKey[] | undefined;
    let auth = options.auth;
    if (config.keysFile) {
      keys = (await loadKeys(config.keysFile)).keys;
      auth ??= createKeyRing(keys);
    }
    let ledger: Ledger | undefined;
    if (config.store !== "none") {
      let budgets: readonly Budget[] = [];
      if (await exists(config.budgetsFile)) {
        const loaded = await loadBudgets(config.budgetsFile, { keys });
        budgets = loaded.budgets;
        for (const warning of loaded.warnings) {
          options.log(
            `${warning.file}:${warning.line}:${warning.col}: warning: ${warning.message}`,
          );
        }
      }
      const store = await openStore(config.store, {
        namespace: config.storeNamespace,
        fsyncMs: config.storeFsyncMs,
        onError: (error) => options.log(`spend store: ${error.message}`),
      });
      opened.push(store);
      ledger = createLedger({ store, budgets });
    }
    let decisionLog: DecisionLog | undefined;
    if (config.decisionLog) {
      decisionLog = createDecisionLog({
        path: config.decisionLog,
        sampleRate: config.decisionLogSampleRate,
        rotation: {
          maxBytes: config.decisionLogMaxBytes || undefined,
          daily: config.decisionLogDaily,
        },
        logger: (message) => options.log(`decision log: ${message}`),
      });
      opened.push(decisionLog);
      const log = decisionLog;
      observeDecisionLogFailures(() => log.status().writeErrors);
    }
    let shadow: PolicyHolder | undefined;
    if (config.shadowPolicy) {
      shadow = await PolicyHolder.load({
        ...options.resolve,
        file: config.shadowPolicy,
        env: options.env,
        debounceMs: config.reloadDebounceMs,
        log: (line) => options.log(`shadow ${line}`),
      });
      if (config.watch) shadow.watch();
      opened.push(shadow);
    }
    const logSalt = config.logSalt ?? crypto.randomUUID();
    if (decisionLog && !config.logSalt) {
      options.log(
        "decision log: SWITCHYARD_LOG_SALT is not set; key hashes will change on restart",
      );
    }
    return { auth, ledger, decisionLog, shadow, logSalt, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `spend [--store journal:<path>|kv:<path>|redis://…] [--namespace ns] [--json] [--at ISO-8601]`:
 * prints spend by key, team, tag, route and via for the current UTC day and month (or those
 * containing `--at`). The store defaults to `$SWITCHYARD_STORE`, then
 * `journal:.switchyard/spend.journal`.
 *
 * The store is opened read-only: a journal is then replayed without taking its lock, so `spend`
 * works while a server holds the journal, and shows the state as of its last written line.
 */
import { parseArgs } from "node:util";
import { DEFAULT_STORE, openStore } from "../budget/open.ts";
import { formatSpendTable, spendSnapshot } from "../budget/report.ts";
import type { SpendStore } from "../budget/store.ts";
import { processEnv } from "../policy/load.ts";
import { EXIT, UsageError } from "./exit.ts";

/** Runs `spend`; `print` receives the output (stdout by default). Returns the exit code. */
export async function spend(
  args: string[],
  print: (text: string) => void = console.log,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      store: { type: "string" },
      namespace: { type: "string" },
      json: { type: "boolean" },
      at: { type: "string" },
    },
    allowPositionals: true,
  });
  if (positionals.length) {
    throw new UsageError(`spend takes no arguments: ${positionals.join(" ")}`);
  }
  const now = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(now.getTime())) throw new UsageError(`--at must be an ISO 8601 instant`);
  const spec = values.store ?? processEnv("SWITCHYARD_STORE") ?? DEFAULT_STORE;

  let store: SpendStore;
  try {
    store = await openStore(spec, { namespace: values.namespace, readOnly: true });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    console.error(`Cannot open the spend store: ${error instanceof Error ? error.message : error}`);
    return EXIT.INVALID;
  }
  try {
    const snapshot = await spendSnapshot(store, now);
    print(values.json ? JSON.stringify(snapshot, null, 2) : formatSpendTable(snapshot));
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

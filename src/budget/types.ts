/** Budgets and client keys as loaded: validated, resolved, ready to use on every request. */
import type { BudgetDimension } from "./store.ts";
import type { WindowKind } from "./windows.ts";

/** The scope id that means "each key (or team) separately". */
export const EACH = "*";

/** One budget from `policies/budgets.yaml`. */
export interface Budget {
  name: string;
  description?: string;
  /** `id` is a key id, team id or tag, or `*` (keys and teams only) for each one separately. */
  scope: { dimension: BudgetDimension; id: string };
  window: WindowKind;
  limitUsd: number;
  /** The limit in integer nano-USD, as the stores compare it. */
  limitNano: number;
  mode: "hard" | "soft";
  /** Where it is declared, for messages. */
  file: string;
  line: number;
}

/** One client key from a keys file. Only the SHA-256 of the key is ever held. */
export interface ClientKey {
  id: string;
  name: string;
  team?: { id: string; name: string };
  tags: string[];
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
}

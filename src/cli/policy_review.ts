/**
 * `policy replay` and `policy diff`: glue between the command line, the decision log, the policy
 * engine and the review reporters. Each returns its exit code; printing is the only effect.
 */
import { parseArgs } from "node:util";
import { logFiles } from "../log/reader.ts";
import type { LogWarning } from "../log/reader.ts";
import {
  diffFromShadow,
  diffPolicies,
  DiffSourceError,
  logInputs,
  testCaseInputs,
  testFileFor,
} from "../policy/diff.ts";
import type { DiffReport } from "../policy/diff_types.ts";
import { type DiffFormat, renderDiff } from "../policy/diff_report.ts";
import { loadPolicy } from "../policy/load.ts";
import { PolicyError } from "../policy/problems.ts";
import { policyRef, replayLog } from "../policy/replay.ts";
import { renderReplay, type ReplayFormat } from "../policy/replay_report.ts";
import { loadPolicyAtRevision, RevisionError } from "../policy/revision.ts";
import { EXIT, UsageError } from "./exit.ts";

const DEFAULT_POLICY = "policies/default.yaml";
const FORMATS = ["pretty", "json", "markdown"] as const;

function format(value: string | undefined): ReplayFormat & DiffFormat {
  if (value === undefined) return "pretty";
  if (!FORMATS.includes(value as (typeof FORMATS)[number])) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
  }
  return value as ReplayFormat & DiffFormat;
}

/** Runs `load`; a policy, revision, log or source that cannot be read prints why and exits 2. */
async function loading<T>(load: () => Promise<T>): Promise<T | number> {
  try {
    return await load();
  } catch (error) {
    const known = error instanceof PolicyError || error instanceof RevisionError ||
      error instanceof DiffSourceError || error instanceof Deno.errors.NotFound;
    if (!known) throw error;
    console.error(error.message);
    return EXIT.INVALID;
  }
}

/** `policy replay <log…> [--policy file] [--format pretty|json|markdown]` */
export async function policyReplay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { policy: { type: "string" }, format: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    throw new UsageError("Usage: policy replay <log…> [--policy file] [--format …]");
  }
  const fmt = format(values.format);
  const policy = await loading(() => loadPolicy(values.policy ?? DEFAULT_POLICY));
  if (typeof policy === "number") return policy;
  const files = await loading(() => logFiles(positionals));
  if (typeof files === "number") return files;
  const report = await loading(() => replayLog(policy, files));
  if (typeof report === "number") return report;
  console.log(renderReplay(report, fmt));
  return EXIT.OK;
}

/**
 * Takes `--fail-on-flip`, whose value is optional (`--fail-on-flip`, `--fail-on-flip a,tag:eu`,
 * `--fail-on-flip=a`), out of the arguments, since `parseArgs` cannot express an optional value.
 */
export function takeFailOnFlip(args: string[]): { rest: string[]; selectors?: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith("--fail-on-flip=")) value = arg.slice("--fail-on-flip=".length);
    else if (arg === "--fail-on-flip") {
      const next = args[i + 1];
      value = next !== undefined && !next.startsWith("-") ? args[++i] : "";
    } else rest.push(arg);
  }
  if (value === undefined) return { rest };
  return { rest, selectors: value.split(",").map((s) => s.trim()).filter(Boolean) };
}

const DIFF_USAGE = "Usage: policy diff --base <git-rev> [--policy file] [--log file…] " +
  "[--format pretty|markdown|json] [--fail-on-flip [route,…|tag:name,…]]\n" +
  "       policy diff --from-shadow --log file… [--policy shadow-file] […]";

/** `policy diff --base <rev> [--policy file] [--log file…] [--format …] [--fail-on-flip […]]` */
export async function policyDiff(args: string[]): Promise<number> {
  const { rest, selectors } = takeFailOnFlip(args);
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      base: { type: "string" },
      policy: { type: "string" },
      log: { type: "string", multiple: true },
      format: { type: "string" },
      "from-shadow": { type: "boolean" },
    },
    allowPositionals: true,
  });
  if (positionals.length) throw new UsageError(`Unexpected ${positionals[0]}\n${DIFF_USAGE}`);
  const fmt = format(values.format);
  const logs = values.log ?? [];
  const shadow = values["from-shadow"] ?? (values.base === undefined && logs.length > 0);
  if (shadow && values.base !== undefined) {
    throw new UsageError("--from-shadow reads both decisions from the log; drop --base");
  }
  if (shadow && logs.length === 0) throw new UsageError("--from-shadow needs --log");
  if (!shadow && values.base === undefined) throw new UsageError(DIFF_USAGE);

  const report = await loading(async (): Promise<DiffReport> => {
    const files = logs.length ? await logFiles(logs) : [];
    if (shadow) {
      const candidate = values.policy ? await loadPolicy(values.policy) : undefined;
      return await diffFromShadow(files, { candidate, failOnFlip: selectors });
    }
    const file = values.policy ?? DEFAULT_POLICY;
    const head = await loadPolicy(file);
    const base = await loadPolicyAtRevision(file, values.base!);
    checkSelectors(selectors, [base.policy.routes, head.routes]);
    const warnings: LogWarning[] = [];
    const tests = logs.length ? "" : testFileFor(file);
    const inputs = logs.length
      ? logInputs(files, warnings)
      : await testCaseInputs(tests, head.routeFacts, warnings);
    const ref = { ...policyRef(base.policy), revision: values.base!, commit: base.source.commit };
    return await diffPolicies(
      { policy: base.policy, ref },
      head,
      inputs,
      { kind: logs.length ? "log" : "tests", files: logs.length ? files : [tests], warnings },
      { failOnFlip: selectors },
    );
  });
  if (typeof report === "number") return report;
  console.log(renderDiff(report, fmt));
  return report.failOnFlip?.failed ? EXIT.TESTS_FAILED : EXIT.OK;
}

/** A route selector naming no route of either policy is a typo that would let every flip pass. */
function checkSelectors(selectors: string[] | undefined, routes: Record<string, unknown>[]) {
  for (const s of selectors ?? []) {
    if (s.startsWith("tag:") || routes.some((r) => s in r)) continue;
    throw new UsageError(
      `--fail-on-flip: no route \`${s}\` in either policy (use tag:${s} for a tag)`,
    );
  }
}

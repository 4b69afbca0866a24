/**
 * Problems a policy author can act on: each points at a file, line and column. A policy that has
 * any error-level problem does not load; warnings are reported and the policy still loads.
 */

/** One thing wrong with a policy file. Lines and columns are 1-based. */
export interface PolicyProblem {
  file: string;
  line: number;
  col: number;
  message: string;
  severity: "error" | "warning";
}

/** `file:line:col: message`, the format editors and CI annotators understand. */
export function formatProblem(problem: PolicyProblem): string {
  const prefix = problem.severity === "warning" ? "warning: " : "";
  return `${problem.file}:${problem.line}:${problem.col}: ${prefix}${problem.message}`;
}

/** A policy could not be loaded; `problems` lists every error found, in file order. */
export class PolicyError extends Error {
  override name = "PolicyError";
  readonly problems: PolicyProblem[];
  constructor(problems: PolicyProblem[]) {
    const errors = problems.filter((p) => p.severity === "error");
    super(
      `Policy has ${errors.length} error${errors.length === 1 ? "" : "s"}:\n` +
        errors.map(formatProblem).join("\n"),
    );
    this.problems = problems;
  }
}

/** Orders problems by file position, so reports read top to bottom. */
export function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return problems.sort((a, b) =>
    a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col ||
    a.message.localeCompare(b.message)
  );
}

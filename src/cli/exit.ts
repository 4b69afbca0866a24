/** Exit codes of every Switchyard command, documented in README. */
export const EXIT = {
  /** Everything passed. */
  OK: 0,
  /** Policy tests failed, rule coverage is below the threshold, or `policy diff --fail-on-flip` found flips. */
  TESTS_FAILED: 1,
  /** A policy (or test file) is invalid or cannot be loaded. */
  INVALID: 2,
  /** The command line is wrong. */
  USAGE: 64,
} as const;

/** A command-line mistake; the CLI prints the message and exits with `EXIT.USAGE`. */
export class UsageError extends Error {
  override name = "UsageError";
}

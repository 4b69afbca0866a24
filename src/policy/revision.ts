/**
 * A policy file as it was at a git revision, read with `git show <rev>:<path>` so that the working
 * tree, the index and HEAD are never touched. The path given to git is relative to the repository
 * root, found from the policy file's own directory, so the command works from any directory.
 */
import { basename, dirname, posix, resolve } from "node:path";
import { type LoadOptions, parsePolicy } from "./load.ts";
import type { Policy } from "./types.ts";

/** The revision or the file in it could not be read; `message` says which and why. */
export class RevisionError extends Error {
  override name = "RevisionError";
}

/** A file's text at a revision. */
export interface RevisionFile {
  text: string;
  /** The revision as given (`HEAD`, `main~1`, a tag…). */
  revision: string;
  /** The commit it resolved to, full hex. */
  commit: string;
  /** The file's path from the repository root, as git names it. */
  path: string;
}

/** Runs git in `cwd`; resolves with trimmed stdout, or rejects with stderr as the message. */
async function git(
  cwd: string,
  args: string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new RevisionError(`Cannot run git: it is not installed or not on PATH`);
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new RevisionError(`Cannot run git: permission denied (run with --allow-run=git)`);
    }
    throw new RevisionError(
      `Cannot run git in ${cwd}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const decoder = new TextDecoder();
  return {
    ok: output.success,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr).trim(),
  };
}

/** Reads `file` (a working-tree path) as it was at `revision`. */
export async function readAtRevision(file: string, revision: string): Promise<RevisionFile> {
  if (revision === "" || revision.startsWith("-")) {
    throw new RevisionError(`Invalid git revision \`${revision}\``);
  }
  const dir = dirname(resolve(file));
  const prefix = await git(dir, ["rev-parse", "--show-prefix"]);
  if (!prefix.ok) {
    throw new RevisionError(`${dirname(file)} is not inside a git repository: ${prefix.err}`);
  }
  const path = posix.normalize(`${prefix.out.trim()}${basename(file)}`);
  const commit = await git(dir, ["rev-parse", "--verify", "--quiet", `${revision}^{commit}`]);
  if (!commit.ok) throw new RevisionError(`Unknown git revision \`${revision}\``);
  const sha = commit.out.trim();
  const exists = await git(dir, ["cat-file", "-e", `${sha}:${path}`]);
  if (!exists.ok) {
    throw new RevisionError(
      `\`${path}\` did not exist at \`${revision}\` (${sha.slice(0, 12)}); ` +
        `nothing to compare against`,
    );
  }
  const shown = await git(dir, ["show", `${sha}:${path}`]);
  if (!shown.ok) throw new RevisionError(`git show ${revision}:${path} failed: ${shown.err}`);
  return { text: shown.out, revision, commit: sha, path };
}

/**
 * Loads and compiles the policy at a revision. Problems are reported against `rev:path`, e.g.
 * `HEAD~1:policies/default.yaml:12:5: …`. Throws `RevisionError` or `PolicyError`.
 */
export async function loadPolicyAtRevision(
  file: string,
  revision: string,
  options: LoadOptions = {},
): Promise<{ policy: Policy; source: RevisionFile }> {
  const source = await readAtRevision(file, revision);
  const policy = await parsePolicy(source.text, `${revision}:${source.path}`, options);
  return { policy, source };
}

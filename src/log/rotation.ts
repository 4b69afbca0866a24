/**
 * Names of rotated decision-log files, shared by the writer (which renames the live file) and the
 * reader (which reads rotated files before the live one). A rotated file is the live file's path
 * plus the UTC time it was rotated: `decisions.jsonl.20261125-143000`, with `-1`, `-2`… appended
 * when two rotations fall in the same second, so names sort in the order they were written.
 */
import { basename, dirname, join } from "node:path";

const ROTATED = /^(.*)\.(\d{8}-\d{6})(?:-(\d+))?$/;

/** `YYYYMMDD-HHMMSS` in UTC. */
export function rotationStamp(at: Date): string {
  const iso = at.toISOString(); // 2026-11-25T14:30:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${
    iso.slice(14, 16)
  }${iso.slice(17, 19)}`;
}

/** The name a live file gets when rotated at `at`; `n` > 0 disambiguates same-second rotations. */
export function rotatedPath(path: string, at: Date, n = 0): string {
  return `${path}.${rotationStamp(at)}${n > 0 ? `-${n}` : ""}`;
}

/** Splits a file name into the live name it was rotated from and its order key, if rotated. */
export function parseRotated(name: string): { live: string; stamp: string; n: number } | null {
  const match = ROTATED.exec(name);
  if (!match) return null;
  return { live: match[1], stamp: match[2], n: Number(match[3] ?? 0) };
}

/**
 * Orders log files oldest first: each live file's rotated files by stamp and number, then the
 * live file itself; unrelated files keep their name order.
 */
export function compareLogFiles(a: string, b: string): number {
  const key = (path: string) => {
    const rotated = parseRotated(basename(path));
    return rotated
      ? { live: join(dirname(path), rotated.live), stamp: rotated.stamp, n: rotated.n }
      : { live: path, stamp: "~", n: 0 }; // "~" sorts after every digit: the live file is newest
  };
  const ka = key(a);
  const kb = key(b);
  if (ka.live !== kb.live) return ka.live < kb.live ? -1 : 1;
  if (ka.stamp !== kb.stamp) return ka.stamp < kb.stamp ? -1 : 1;
  return ka.n - kb.n;
}

/** The rotated files of a live log, oldest first (not including the live file). */
export async function rotatedFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const live = basename(path);
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && parseRotated(entry.name)?.live === live) {
        found.push(join(dir, entry.name));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort(compareLogFiles);
}

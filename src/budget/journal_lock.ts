/**
 * The lock that keeps a spend journal to one process: `<path>.lock`, held with `flock(2)` while the
 * journal is open for writing. A separate file because the journal itself is replaced by a rename
 * on every compaction, which a lock on it would not survive; never removed, because removing a
 * lock file races with the next process taking it. The kernel releases it when the process dies.
 */
import { SpendStoreError } from "./store.ts";

/** Another process (or handle outside this module) has the journal open for writing. */
export class JournalLockedError extends SpendStoreError {
  override name = "JournalLockedError";
}

/** Takes the journal's exclusive lock without waiting; throws `JournalLockedError` when held. */
export function lockJournal(path: string): Deno.FsFile {
  const lock = Deno.openSync(`${path}.lock`, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = lock.tryLockSync(true);
  } finally {
    if (!locked) lock.close();
  }
  if (!locked) {
    throw new JournalLockedError(
      `The spend journal ${path} is in use by another process. A journal store serves one ` +
        "process: to run several Switchyard instances, share a Redis store " +
        "(--store redis://host:port). `deno task spend` can still read the journal.",
    );
  }
  return lock;
}

/**
 * Sticky bucketing for split rules: a caller-chosen key (the OpenAI `user`, a session header, or
 * the request id) hashes to one of 100 buckets, so a conversation stays on one arm and keeps its
 * provider-side prompt cache.
 */

/** FNV-1a, 32 bits: fast, stable across processes and versions, good enough spread for buckets. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

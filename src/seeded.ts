/**
 * Deterministic numbers from inputs: a string hash (FNV-1a, 32 bits) and a seeded pseudo-random
 * generator (mulberry32). Used wherever the same input must give the same answer across processes
 * and versions: sticky split buckets, simulated answers, generated test data.
 */

/** FNV-1a, 32 bits: fast, stable everywhere, spread well enough for buckets and ids. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small seeded generator (mulberry32): the same seed gives the same sequence in [0, 1). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

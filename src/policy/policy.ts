/**
 * The policy interface actors call: a batch of prompts in, a batch of replies with their tokens
 * and log-probs out. The model (engine generation) implements it; so do `randomPolicy`, for fast
 * loop tests, and anything remote (an inference server) later.
 *
 * Invariants every implementation owes:
 * - `generate` returns one result per request, in order; a batch is one call so a model can run
 *   every live game's prompt through one batched forward.
 * - `logprobs[t]` is the sampling policy's log-prob of `generatedIds[t]` (temperature applied,
 *   masked to `allowedIds[t]` at constrained steps), so the learner can recompute it exactly.
 * - With `constraint`, `text` is one of the constraint's choices (after the free text before the
 *   trigger, when there is a trigger) and `allowedIds[t]` lists the ids allowed at step t (null at
 *   unconstrained steps).
 * - All randomness comes from the `rng` argument: same rng state, same weights ⇒ same results.
 * - `choiceProbabilities` gives the exact probability of each choice as the complete reply (the
 *   product of token probabilities along its constrained path): exact exploitability needs it.
 */
import type { ChoiceConstraint } from "../engine/infer/trie.js";
import { TokenTrie } from "../engine/infer/trie.js";
import { ByteTokenizer } from "../engine/tokenizer/byte-tokenizer.js";
import type { ChatMessage } from "../engine/tokenizer/tokenizer.js";
import type { Rng } from "../core/rng.js";

/** What the model is shown: raw text (compact prompts) or a conversation (chat prompts). */
export type PromptInput =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "chat"; readonly messages: readonly ChatMessage[] };

export interface PolicyRequest {
  readonly prompt: PromptInput;
  /** Constrained decoding; absent for free generation. */
  readonly constraint?: ChoiceConstraint;
  readonly maxNewTokens: number;
  /**
   * The legal moves in canonical text. Models never see this field (the prompt states the legal
   * moves where the prompt format wants them); scripted policies (random, tests) act on it.
   */
  readonly legal: readonly string[];
}

export interface PolicyResult {
  /** The decoded reply (special tokens skipped). */
  readonly text: string;
  /** Prompt tokens [P]. */
  readonly promptIds: readonly number[];
  /** Generated tokens [G], EOS included when produced. */
  readonly generatedIds: readonly number[];
  /** Sampler log-prob per generated token [G]. */
  readonly logprobs: readonly number[];
  /** Per generated token, the allowed ids at that step, or null when free [G]; absent when free throughout. */
  readonly allowedIds?: readonly (readonly number[] | null)[];
  /** The weights' version that produced this reply, when it may differ from `Policy.version` (endpoint actors). */
  readonly policyVersion?: number;
  /** Why this reply must not be trained on (endpoint actors: its token ids did not check out). */
  readonly untrainable?: string;
}

/** A request a remote policy could not answer in transport: every server it tried refused, timed out or failed. */
export interface TransportFailure {
  readonly kind: "transport";
  readonly error: string;
}

export function isTransportFailure(r: PolicyResult | TransportFailure): r is TransportFailure {
  return (r as Partial<TransportFailure>).kind === "transport";
}

/** A remote policy that can answer nothing any more (no server has lived for its give-up time). */
export class PolicyUnavailableError extends Error {
  override name = "PolicyUnavailableError";
}

export interface Policy {
  /** E.g. "random", "model:tiny". */
  readonly name: string;
  /** Version of the weights: the learner step that produced them. */
  readonly version: number;
  generate(requests: readonly PolicyRequest[], rng: Rng): Promise<PolicyResult[]>;
  /**
   * Remote policies: `generate`, with a request that failed in transport as a `TransportFailure`
   * in its place instead of failing the batch; rejects with `PolicyUnavailableError` when the
   * policy can answer nothing any more. The actor ends such a request's game as "transport".
   */
  generateSettled?(requests: readonly PolicyRequest[], rng: Rng): Promise<(PolicyResult | TransportFailure)[]>;
  /** Exact probability of each of `choices` as the whole reply to `request` (sums to 1). */
  choiceProbabilities(request: PolicyRequest, choices: readonly string[]): Promise<number[]>;
}

/** The text a policy conditions on, for tokenisers that need a string. */
export function promptText(prompt: PromptInput, render: (messages: readonly ChatMessage[]) => string): string {
  return prompt.kind === "text" ? prompt.text : render(prompt.messages);
}

export interface RandomPolicyOptions {
  /** Share of free-mode replies that are garbage (no action), to exercise invalid-move scoring. Default 0. */
  readonly invalidRate?: number;
  /** Words of filler "reasoning" before the boxed answer in free mode. Default 4. */
  readonly fillerWords?: number;
}

const bytes = new ByteTokenizer();

/** Number of completions (ends) below each trie node, memoised. */
function leafCounter(trie: TokenTrie): (node: number) => number {
  const memo = new Map<number, number>();
  const count = (node: number): number => {
    let c = memo.get(node);
    if (c === undefined) {
      c = 0;
      if (trie.isEnd(node)) c = 1;
      else for (const id of trie.allowed(node)) c += count(trie.next(node, id));
      memo.set(node, c);
    }
    return c;
  };
  return count;
}

/**
 * Uniform over the allowed completions, written in byte tokens. Constrained requests walk the
 * byte trie of the choices, each token drawn with probability (completions below the child) /
 * (completions below the node), so the reply is uniform over choices and the recorded
 * log-probs are exact. Free requests write a few filler words and `\boxed{legal move}` (or garbage
 * at `invalidRate`).
 */
export function randomPolicy(options: RandomPolicyOptions = {}): Policy {
  const invalidRate = options.invalidRate ?? 0;
  const filler = options.fillerWords ?? 4;
  const promptIds = (p: PromptInput) => bytes.encode(promptText(p, (m) => bytes.applyChatTemplate(m)));

  // Games repeat the same legal sets (TicTacToe boards, Kuhn's betting nodes): keep their tries.
  const tries = new Map<string, { trie: TokenTrie; count: (node: number) => number }>();
  function trieOf(constraint: ChoiceConstraint): { trie: TokenTrie; count: (node: number) => number } {
    const key = JSON.stringify([constraint.choices, constraint.suffix ?? ""]);
    let entry = tries.get(key);
    if (entry === undefined) {
      const trie = new TokenTrie([...new Set(constraint.choices)].map((c) => bytes.encode(c + (constraint.suffix ?? ""))), bytes.eosIds[0] as number);
      entry = { trie, count: leafCounter(trie) };
      if (tries.size >= 1024) tries.clear();
      tries.set(key, entry);
    }
    return entry;
  }

  function constrained(request: PolicyRequest, constraint: ChoiceConstraint, rng: Rng): PolicyResult {
    const { trie, count } = trieOf(constraint);
    // The free text before the trigger, within the token budget like any reply.
    const prefix = constraint.trigger === undefined ? [] : bytes.encode(`Thinking. ${constraint.trigger}`).slice(0, request.maxNewTokens);
    const generatedIds: number[] = [...prefix];
    const logprobs: number[] = prefix.map(() => 0);
    const allowedIds: (readonly number[] | null)[] = prefix.map(() => null);
    let node = trie.root;
    while (!trie.isEnd(node) && generatedIds.length < request.maxNewTokens) {
      const allowed = Array.from(trie.allowed(node));
      const total = count(node);
      let pick = rng.int(total);
      let chosen = allowed[0] as number;
      for (const id of allowed) {
        const c = count(trie.next(node, id));
        if (pick < c) {
          chosen = id;
          break;
        }
        pick -= c;
      }
      const child = trie.next(node, chosen);
      generatedIds.push(chosen);
      logprobs.push(Math.log(count(child) / total));
      allowedIds.push(allowed);
      node = child;
    }
    return { text: bytes.decode(generatedIds, { skipSpecialTokens: true }), promptIds: promptIds(request.prompt), generatedIds, logprobs, allowedIds };
  }

  function free(request: PolicyRequest, rng: Rng): PolicyResult {
    const words = Array.from({ length: filler }, () => rng.choice(["hmm", "so", "then", "maybe", "ok"]));
    const answer = rng.next() < invalidRate || request.legal.length === 0 ? "no idea" : `\\boxed{${rng.choice(request.legal)}}`;
    const text = `${words.join(" ")} ${answer}`;
    const ids = [...bytes.encode(text), bytes.eosIds[0] as number].slice(0, request.maxNewTokens);
    // A fixed vocabulary-uniform log-prob: free replies of this policy are not a distribution the
    // learner could recompute; tests only need consistent numbers.
    const lp = -Math.log(bytes.vocabSize);
    return { text: bytes.decode(ids, { skipSpecialTokens: true }), promptIds: promptIds(request.prompt), generatedIds: ids, logprobs: ids.map(() => lp) };
  }

  return {
    name: "random",
    version: 0,
    generate(requests, rng) {
      return Promise.resolve(requests.map((r) => (r.constraint === undefined ? free(r, rng) : constrained(r, r.constraint, rng))));
    },
    choiceProbabilities(_request, choices) {
      if (choices.length === 0) return Promise.reject(new Error("choiceProbabilities needs at least one choice"));
      return Promise.resolve(choices.map(() => 1 / choices.length));
    },
  };
}

/**
 * The model as a `Policy`: prompts are tokenised (chat messages through the tokenizer's chat
 * template), all requests of a call go through one batched `Generator.generate`, and the
 * completions come back with their tokens, sampler log-probs and constrained-decoding sets.
 *
 * `choiceProbabilities` is exact for constrained replies: each choice's canonical token path in
 * the constraint trie (with the end token where one choice is a prefix of another) is scored by
 * the engine's log-prob graph (`recomputeLogprobs`, as the learner scores its samples), masked to the trie's allowed sets, under the policy temperature;
 * P(choice) = exp Σ log-probs along the path. With a trigger (chat mode) the free text before the
 * trigger cannot be summed over, so the probabilities are conditional on the prompt followed
 * directly by the trigger.
 *
 * Weights are read zero-copy by both generator and runner from one `Params` buffer: an AdamW
 * update is visible to the next generate call without any copy ("weights sync" in-process).
 */
import type { Generator } from "../engine/infer/generate.js";
import { recomputeLogprobs, type GeneratedRow, type LossRunner } from "../engine/train/loss-runner.js";
import type { Tokenizer } from "../engine/tokenizer/tokenizer.js";
import { buildChoiceTrie } from "../engine/infer/trie.js";
import type { Policy, PolicyRequest, PolicyResult, PromptInput } from "./policy.js";

export interface ModelPolicyOptions {
  readonly name: string;
  readonly generator: Generator;
  /** Needed only by `choiceProbabilities` (evaluation); actors in worker threads go without. */
  readonly runner?: LossRunner;
  readonly tokenizer: Tokenizer;
  readonly temperature: number;
  readonly topP?: number;
  /** Rows per log-prob batch in `choiceProbabilities`. */
  readonly microBatch?: number;
  /** Read at every call: the learner step that produced the current weights. */
  readonly version: () => number;
}

export function encodePrompt(tokenizer: Tokenizer, prompt: PromptInput): number[] {
  const text = prompt.kind === "text" ? prompt.text : tokenizer.applyChatTemplate(prompt.messages, { addGenerationPrompt: true });
  return tokenizer.encode(text);
}

export function modelPolicy(options: ModelPolicyOptions): Policy {
  const { generator, runner, tokenizer } = options;
  return {
    name: options.name,
    get version() {
      return options.version();
    },
    async generate(requests, rng): Promise<PolicyResult[]> {
      if (requests.length === 0) return [];
      const maxNewTokens = Math.max(...requests.map((r) => r.maxNewTokens));
      const prompts = requests.map((r) => encodePrompt(tokenizer, r.prompt));
      const completions = await generator.generate(
        requests.map((r, i) => ({ prompt: prompts[i] as number[], ...(r.constraint === undefined ? {} : { constraint: r.constraint }) })),
        { maxNewTokens, temperature: options.temperature, ...(options.topP === undefined ? {} : { topP: options.topP }), rng, skipSpecialTokens: true },
      );
      return completions.map((c, i) => {
        const constrained = c.allowed.some((a) => a !== null);
        return {
          text: c.text,
          promptIds: prompts[i] as number[],
          generatedIds: c.tokens,
          logprobs: c.logprobs,
          ...(constrained ? { allowedIds: c.allowed.map((a) => (a === null ? null : Array.from(a))) } : {}),
        };
      });
    },
    async choiceProbabilities(request: PolicyRequest, choices: readonly string[]): Promise<number[]> {
      if (choices.length === 0) throw new Error("choiceProbabilities needs at least one choice");
      if (runner === undefined) throw new Error(`policy ${options.name} has no log-prob runner: choiceProbabilities is unavailable`);
      const suffix = request.constraint?.suffix ?? "";
      const trigger = request.constraint?.trigger ?? "";
      const trie = buildChoiceTrie(tokenizer, { choices, suffix });
      const prompt = encodePrompt(tokenizer, request.prompt);
      const promptIds = trigger === "" ? prompt : [...prompt, ...tokenizer.encode(trigger)];
      const rows: GeneratedRow[] = choices.map((choice) => {
        const generatedIds: number[] = [];
        const allowedIds: number[][] = [];
        let node = trie.root;
        const step = (id: number): void => {
          allowedIds.push(Array.from(trie.allowed(node)));
          generatedIds.push(id);
          node = trie.next(node, id);
        };
        for (const id of tokenizer.encode(choice + suffix)) step(id);
        if (!trie.isEnd(node)) step(trie.endId);
        return { promptIds, generatedIds, allowedIds };
      });
      const greedy = options.temperature === 0;
      const { logprobs } = await recomputeLogprobs(runner, rows, options.microBatch ?? 32, greedy ? 1 : options.temperature);
      const probs = logprobs.map((lp) => Math.exp(lp.reduce((a, b) => a + b, 0)));
      if (!greedy) return probs;
      // Greedy decoding picks the most likely token at each step; for a trie this is the choice
      // whose path is argmax at every node, which a one-hot on the most likely whole reply
      // approximates (exact when the token-level and sequence-level argmax agree).
      const best = probs.indexOf(Math.max(...probs));
      return probs.map((_, i) => (i === best ? 1 : 0));
    },
  };
}

/**
 * Top-k alternatives per generated token (`top_logprobs`), which the batched generator does not
 * return (it keeps only the sampled token's log-prob).
 *
 * They are recomputed after generation with one float64 forward over prompt + completion
 * (`referenceForward`, the engine's pure-TS reference): log_softmax(logits / T) at each generated
 * position, T = the request's temperature (1 when greedy), the same quantity the sampler records,
 * so the sampled token's entry matches its `logprob` (to float32 rounding). A request's logit bias
 * and penalties are applied as the sampler applied them (`adjustLogits`, counting the tokens
 * generated before each position). The reference forward
 * is slow (plain JS, O(tokens · parameters)), so it is offered only up to `TOP_LOGPROBS_MAX_PARAMS`.
 */
import type { ModelConfig } from "../engine/model/config.js";
import type { Params } from "../engine/weights/params.js";
import { referenceForward } from "../engine/model/reference.js";
import { adjustLogits, adjustsLogits, type LogitAdjustments } from "../engine/infer/sampling.js";

export const TOP_LOGPROBS_MAX_PARAMS = 50e6;

export interface TokenAlternatives {
  readonly ids: readonly number[];
  readonly logprobs: readonly number[];
}

/** For each of `generated` (positions after `prompt`), the k most likely ids and their log-probs. */
export function topAlternatives(
  config: ModelConfig, params: Params, prompt: readonly number[], generated: readonly number[], k: number, temperature: number,
  adjustments: LogitAdjustments = {},
): TokenAlternatives[] {
  if (generated.length === 0 || k === 0) return generated.map(() => ({ ids: [], logprobs: [] }));
  const V = config.vocabSize;
  const T = temperature > 0 ? temperature : 1;
  // The logits that predicted generated[j] sit at position prompt.length − 1 + j.
  const logits = referenceForward(config, params, [...prompt, ...generated.slice(0, -1)]);
  const adjust = adjustsLogits(adjustments);
  const counts = new Map<number, number>();
  return generated.map((id, j) => {
    const row = (prompt.length - 1 + j) * V;
    if (adjust) {
      adjustLogits(logits.subarray(row, row + V), adjustments, counts);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    let max = -Infinity;
    for (let i = 0; i < V; i++) max = Math.max(max, (logits[row + i] as number) / T);
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp((logits[row + i] as number) / T - max);
    const lse = max + Math.log(sum);
    const order = Array.from({ length: V }, (__, i) => i).sort((a, b) => (logits[row + b] as number) - (logits[row + a] as number)).slice(0, k);
    return { ids: order, logprobs: order.map((i) => (logits[row + i] as number) / T - lse) };
  });
}

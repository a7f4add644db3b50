/**
 * Math benchmarks with SPIRAL's protocol: each problem asked with the same reasoning prompt
 * (`mathPrompt`: reason step by step, final answer in `\boxed{}`), K samples per problem at
 * temperature 0.6 and top-p 0.95 (the caller's policy settings), each sample graded twice
 * (`gradeReply`): by the strict grader (the last box, or a marked fallback) and by the
 * reference-compatible one (the Qwen2.5-Math harness's rules, whose numbers published results
 * report). Accuracy is the mean over problems of the share of correct samples (= the mean over
 * all samples, every problem having K); `grader` picks which of the two is the headline
 * `accuracy`, and both are always in `strict` and `reference`.
 *
 * Interval: Wilson on the problem-level mean with n = problems. Exact for K = 1; for K > 1 it is
 * conservative (K samples shrink each problem's noise, not the spread between problems).
 * Samples lost to transport failures (an endpoint that stays down) are counted apart and left out
 * of that problem's mean; a problem with none left is left out of the accuracy.
 */
import type { Rng } from "../core/rng.js";
import { mathPrompt } from "../prompt/math.js";
import { wilson, Z95, type Interval } from "./stats.js";
import type { PolicyRequest, PolicyResult } from "../policy/policy.js";
import type { RemoteResult } from "../policy/openai-policy.js";
import { gradeReply, type Extraction, type GraderName, type ReplyGrade } from "./math-grade.js";
import type { MathProblem } from "./math-data.js";
import type { PolicyPlayer } from "../policy/policy-spec.js";

/** SPIRAL's evaluation sampling. */
export const MATH_TEMPERATURE = 0.6;
export const MATH_TOP_P = 0.95;

export interface MathBenchOptions {
  readonly name: string;
  readonly player: PolicyPlayer;
  readonly problems: readonly MathProblem[];
  /** Samples per problem (K). */
  readonly samples: number;
  /** Requests per local-model generate call. Default 64. */
  readonly batch?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** The headline grader (`accuracy`, `interval`). Default "strict". */
  readonly grader?: GraderName;
  /** The set as the reference grader knows it (math500, minerva_math, …). Default: `name`. */
  readonly dataset?: string;
}

/** One grader's verdict on one sample. */
export interface SampleVerdict {
  /** The extracted answer (the reference grader's after its clean-up); null when none. */
  readonly prediction: string | null;
  readonly extraction: Extraction;
  readonly correct: boolean;
}

export interface SampleResult extends SampleVerdict {
  /** The reference-compatible grader's verdict (the top-level fields are the strict one's). */
  readonly reference: SampleVerdict;
  readonly tokens: number | null;
}

export interface ProblemResult {
  readonly id: string;
  readonly answer: string;
  /** Graded samples: each with both verdicts and the extracted answers. */
  readonly samples: readonly SampleResult[];
  readonly transportFailures: number;
}

/** One grader's figures over a set. */
export interface GraderSummary {
  /** Mean over problems of the share of correct samples. */
  readonly accuracy: number;
  readonly interval: Interval;
  /** Samples from which no answer could be read. */
  readonly unextractable: number;
  /** Samples whose answer came from a fallback (no closed `\boxed{}`). */
  readonly fallbacks: number;
}

export interface MathBenchResult {
  readonly name: string;
  readonly problems: number;
  readonly samplesPerProblem: number;
  /** Which grader `accuracy` and `interval` are (the headline). */
  readonly grader: GraderName;
  /** Mean over problems of the share of correct samples, by the headline grader. */
  readonly accuracy: number;
  readonly interval: Interval;
  readonly strict: GraderSummary;
  readonly reference: GraderSummary;
  /** Mean generated tokens per sample, null when the policy reports none. */
  readonly meanReplyTokens: number | null;
  readonly transportFailures: number;
  readonly seconds: number;
  readonly details: readonly ProblemResult[];
}

/**
 * Wilson's interval for a share p̂ of n (p̂ need not be k/n for an integer k: with K samples per
 * problem it is a mean of shares). Equals `wilson(k, n)` when p̂ = k/n.
 */
export function wilsonShare(share: number, n: number): Interval {
  if (n === 0) return wilson(0, 0);
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / n;
  const centre = (share + z2 / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt((share * (1 - share)) / n + z2 / (4 * n * n))) / denom;
  return { rate: share, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

type Outcome = { readonly ok: true; readonly result: PolicyResult } | { readonly ok: false; readonly error: string };

async function generateAll(player: PolicyPlayer, requests: readonly PolicyRequest[], rng: Rng, batch: number, progress: (n: number) => void): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < requests.length; i += batch) {
    const chunk = requests.slice(i, i + batch);
    if (player.batched) {
      try {
        for (const result of await player.policy.generate(chunk, rng.split())) out.push({ ok: true, result });
      } catch (e) {
        for (const _ of chunk) out.push({ ok: false, error: (e as Error).message });
      }
    } else {
      const streams = chunk.map(() => rng.split());
      out.push(
        ...(await Promise.all(
          chunk.map(async (r, k): Promise<Outcome> => {
            try {
              const [result] = await player.policy.generate([r], streams[k] as Rng);
              if (result === undefined) throw new Error(`${player.name} returned no result`);
              return { ok: true, result };
            } catch (e) {
              return { ok: false, error: (e as Error).message };
            }
          }),
        )),
      );
    }
    progress(out.length);
  }
  return out;
}

export async function benchMath(options: MathBenchOptions, rng: Rng): Promise<MathBenchResult> {
  const { player, problems, samples } = options;
  if (!(Number.isInteger(samples) && samples >= 1)) throw new Error(`samples must be a positive integer; got ${samples}`);
  if (problems.length === 0) throw new Error(`${options.name}: no problems to evaluate`);
  const started = performance.now();
  const requests: PolicyRequest[] = problems.flatMap((p) => Array.from({ length: samples }, () => ({ prompt: { kind: "chat" as const, messages: mathPrompt(p.question) }, maxNewTokens: player.maxNewTokens, legal: [] })));
  const outcomes = await generateAll(player, requests, rng, options.batch ?? 64, (n) => options.onProgress?.(n, requests.length));
  const dataset = options.dataset ?? options.name;
  let transportFailures = 0;
  let tokenSum = 0;
  let tokenCount = 0;
  const verdict = (g: ReplyGrade): SampleVerdict => ({ prediction: g.prediction ?? null, extraction: g.extraction, correct: g.correct });
  const details: ProblemResult[] = problems.map((p, i) => {
    let failed = 0;
    const graded: SampleResult[] = [];
    for (const o of outcomes.slice(i * samples, (i + 1) * samples)) {
      if (!o.ok) {
        failed++;
        continue;
      }
      const strict = verdict(gradeReply(o.result.text, p.answer));
      const reference = verdict(gradeReply(o.result.text, p.harnessAnswer ?? p.answer, { grader: "reference", dataset }));
      const tokens = o.result.generatedIds.length > 0 ? o.result.generatedIds.length : ((o.result as Partial<RemoteResult>).completionTokens ?? null);
      if (tokens !== null) {
        tokenSum += tokens;
        tokenCount++;
      }
      graded.push({ ...strict, reference, tokens });
    }
    transportFailures += failed;
    return { id: p.id, answer: p.answer, samples: graded, transportFailures: failed };
  });
  const strict = summarise(details, (s) => s);
  const reference = summarise(details, (s) => s.reference);
  const headline = options.grader === "reference" ? reference : strict;
  return {
    name: options.name, problems: details.filter((d) => d.samples.length > 0).length, samplesPerProblem: samples, grader: options.grader ?? "strict",
    accuracy: headline.accuracy, interval: headline.interval, strict, reference,
    meanReplyTokens: tokenCount === 0 ? null : tokenSum / tokenCount, transportFailures, seconds: (performance.now() - started) / 1000, details,
  };
}

/** One grader's accuracy (mean over problems with a graded sample), interval and extraction counts. */
function summarise(details: readonly ProblemResult[], pick: (s: SampleResult) => SampleVerdict): GraderSummary {
  const scored = details.filter((d) => d.samples.length > 0);
  const shares = scored.map((d) => d.samples.filter((s) => pick(s).correct).length / d.samples.length);
  const accuracy = shares.length === 0 ? 0 : shares.reduce((a, b) => a + b, 0) / shares.length;
  const all = scored.flatMap((d) => d.samples.map(pick));
  return {
    accuracy,
    interval: wilsonShare(accuracy, scored.length),
    unextractable: all.filter((v) => v.prediction === null || v.extraction === "none").length,
    fallbacks: all.filter((v) => v.extraction !== "boxed" && v.extraction !== "none").length,
  };
}

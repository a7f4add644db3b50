/**
 * The conformance check every `Policy` is held to (the invariants of policy.ts), like the games'
 * (games/conformance.ts). `conformance.test.ts` runs it over the random policy, the model policy
 * and the OpenAI-endpoint policy talking to a real `spiral serve` process; a new policy's author
 * can run it too. It returns the failures found (empty: conforms), never throws for a policy fault.
 *
 * Checked, on a batch that mixes compact (text, constrained) and chat (messages, free or
 * constrained after a trigger) requests of real game observations:
 * - `name` is a non-empty string and `version` a finite number;
 * - `generate([])` gives []; a batch gives one result per request, in order (each request once
 *   alone and once in the batch: the lengths agree);
 * - every result has string text and arrays with `logprobs.length === generatedIds.length`, at
 *   most `maxNewTokens` generated tokens, finite log-probs ≤ 0, and `allowedIds` (when present) one
 *   entry per generated token holding that token wherever it is not null;
 * - constrained replies (when the policy honours constraints) are one of the choices (or, cut by
 *   the budget, the start of one); with a trigger, what follows the trigger when the free text
 *   wrote it;
 * - the same rng state gives the same results (when `deterministic`);
 * - `choiceProbabilities` rejects (never throws at once) an empty choice list and, when exact, gives one probability per
 *   choice, each in [0, 1], summing to 1 (1e-5); for a constrained request without a trigger the
 *   sampled reply's exp Σ log-probs equals its choice's probability (1e-3, token ids known);
 * - every reply, read by a prompt mode and judged by the game, leads the play loop to a finished
 *   game with a known end reason (a malformed reply is an invalid move, never a crash).
 */
import type { AnyGame, Observation } from "../games/game.js";
import type { GameRecord } from "../games/game-record.js";
import { END_REASONS } from "../games/game-record.js";
import { getGame } from "../games/registry.js";
import { createRng } from "../core/rng.js";
import { playGames, readReply } from "./play.js";
import type { Policy, PolicyRequest, PolicyResult } from "./policy.js";
import { chatMode, compactMode, type PromptMode } from "./prompt-mode.js";

export interface PolicyConformanceOptions {
  /** Constrained requests are answered with one of the choices (local models; not endpoints). */
  readonly honoursConstraints: boolean;
  /** Results carry prompt and generated token ids with their log-probs (local models; not endpoints). */
  readonly tokenIds: boolean;
  /** `choiceProbabilities` is exact (local models); otherwise it may reject. */
  readonly exact: boolean;
  /** The same rng state gives the same replies. Default true. */
  readonly deterministic?: boolean;
  /** Token budget per request. Default 12. */
  readonly maxNewTokens?: number;
  /** Games the play-loop check plays per prompt mode. Default 4. */
  readonly games?: number;
}

/** Observations from a few plies of real games, so requests are the ones play makes. */
function observations(): { game: AnyGame; observation: Observation }[] {
  const out: { game: AnyGame; observation: Observation }[] = [];
  for (const id of ["TicTacToe-v0", "KuhnPoker-v1-1round", "Nim-v0"]) {
    const game = getGame(id);
    let state = game.init(7);
    for (let ply = 0; ply < 2 && !game.isTerminal(state); ply++) {
      const seat = game.toAct(state)[0] ?? 0;
      out.push({ game, observation: game.observe(state, seat) });
      state = game.apply(state, seat, game.legalActions(state, seat)[0]);
    }
  }
  return out;
}

function requestsOf(maxNewTokens: number): { request: PolicyRequest; game: AnyGame; observation: Observation }[] {
  const constrainedChat = chatMode({ constrainAnswer: true });
  return observations().flatMap(({ game, observation }) =>
    [compactMode, chatMode(), constrainedChat].map((mode) => ({ request: mode.request(game.info, observation, maxNewTokens), game, observation })),
  );
}

/** What is wrong with one result for its request (empty when nothing). */
function resultProblems(r: PolicyResult, request: PolicyRequest, options: PolicyConformanceOptions): string[] {
  const problems: string[] = [];
  if (typeof r.text !== "string") problems.push("text is not a string");
  if (!Array.isArray(r.promptIds) || !Array.isArray(r.generatedIds) || !Array.isArray(r.logprobs)) return [...problems, "promptIds, generatedIds and logprobs must be arrays"];
  if (r.logprobs.length !== r.generatedIds.length) problems.push(`${r.logprobs.length} log-probs for ${r.generatedIds.length} generated tokens`);
  if (r.generatedIds.length > request.maxNewTokens) problems.push(`${r.generatedIds.length} generated tokens over the budget of ${request.maxNewTokens}`);
  if (!r.logprobs.every((lp) => Number.isFinite(lp) && lp <= 1e-6)) problems.push("a log-prob is not finite or above 0");
  if (options.tokenIds && (r.promptIds.length === 0 || (r.generatedIds.length === 0 && request.maxNewTokens > 0))) problems.push("no prompt or generated token ids");
  if (r.allowedIds !== undefined) {
    if (r.allowedIds.length !== r.generatedIds.length) problems.push(`${r.allowedIds.length} allowed sets for ${r.generatedIds.length} tokens`);
    r.allowedIds.forEach((a, t) => {
      if (a !== null && !a.includes(r.generatedIds[t] as number)) problems.push(`token ${t} (${r.generatedIds[t]}) is not in its allowed set`);
    });
  }
  const c = request.constraint;
  if (options.honoursConstraints && c !== undefined) {
    // With a trigger the text before it is free and may end without it (an invalid move, not a fault).
    const trigger = c.trigger ?? "";
    const at = trigger === "" ? 0 : r.text.indexOf(trigger);
    const answer = at < 0 ? null : r.text.slice(at + trigger.length);
    const complete = answer === null || c.choices.some((choice) => answer === choice + (c.suffix ?? ""));
    // A reply cut by the token budget may stop inside a choice.
    const cut = r.generatedIds.length >= request.maxNewTokens;
    const partial = answer !== null && c.choices.some((choice) => (choice + (c.suffix ?? "")).startsWith(answer));
    if (!complete && !(cut && partial)) problems.push(`constrained reply ${JSON.stringify(r.text)} is not one of ${JSON.stringify(c.choices)}`);
  }
  return problems;
}

async function generateChecks(policy: Policy, options: PolicyConformanceOptions, fail: (what: string) => void): Promise<void> {
  const maxNewTokens = options.maxNewTokens ?? 12;
  const cases = requestsOf(maxNewTokens);
  const requests = cases.map((c) => c.request);
  const empty = await policy.generate([], createRng(1));
  if (!Array.isArray(empty) || empty.length !== 0) fail("generate([]) does not give []");
  const batch = await policy.generate(requests, createRng(2));
  if (batch.length !== requests.length) return fail(`generate gave ${batch.length} results for ${requests.length} requests`);
  batch.forEach((r, i) => resultProblems(r, requests[i] as PolicyRequest, options).forEach((p) => fail(`request ${i}: ${p}`)));
  for (const [i, request] of requests.entries()) {
    const [alone, ...rest] = await policy.generate([request], createRng(100 + i));
    if (alone === undefined || rest.length > 0) fail(`request ${i} alone: expected exactly one result`);
  }
  if (options.deterministic !== false) {
    const again = await policy.generate(requests, createRng(2));
    const key = (rs: readonly PolicyResult[]) => JSON.stringify(rs.map((r) => [r.text, r.generatedIds, r.logprobs]));
    if (key(again) !== key(batch)) fail("the same rng state gave different results");
  }
}

async function choiceChecks(policy: Policy, options: PolicyConformanceOptions, fail: (what: string) => void): Promise<void> {
  const [first] = requestsOf(options.maxNewTokens ?? 12);
  if (first === undefined) return;
  const request = first.request;
  const choices = request.constraint?.choices ?? first.observation.legal;
  let rejected: Promise<unknown>;
  try {
    rejected = policy.choiceProbabilities(request, []);
  } catch {
    return fail("choiceProbabilities([]) threw at once instead of rejecting");
  }
  if (await rejected.then(() => true, () => false)) fail("choiceProbabilities([]) did not reject");
  if (!options.exact) return;
  const probs = await policy.choiceProbabilities(request, choices);
  if (probs.length !== choices.length) return fail(`choiceProbabilities gave ${probs.length} values for ${choices.length} choices`);
  if (!probs.every((p) => p >= 0 && p <= 1)) fail(`a choice probability is outside [0, 1]: ${probs.join(", ")}`);
  const sum = probs.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-5) fail(`choice probabilities sum to ${sum}, not 1`);
  if (!options.tokenIds || request.constraint === undefined || request.constraint.trigger !== undefined) return;
  const [sampled] = await policy.generate([{ ...request, maxNewTokens: 64 }], createRng(3));
  const k = choices.indexOf(sampled?.text ?? "");
  if (sampled === undefined || k < 0) return fail(`the sampled constrained reply ${JSON.stringify(sampled?.text)} is not a choice`);
  const p = Math.exp(sampled.logprobs.reduce((a, b) => a + b, 0));
  if (Math.abs(p - (probs[k] as number)) > 1e-3) fail(`the sampled reply's probability ${p} differs from choiceProbabilities' ${probs[k]}`);
}

async function playChecks(policy: Policy, options: PolicyConformanceOptions, fail: (what: string) => void): Promise<void> {
  const maxNewTokens = options.maxNewTokens ?? 12;
  const modes: PromptMode[] = [compactMode, chatMode()];
  for (const mode of modes) {
    const ended: GameRecord[] = [];
    let started = 0;
    const rng = createRng(`conformance-${mode.name}`);
    await playGames<null>({
      providers: [{
        async answer(decisions) {
          const requests = decisions.map((d) => mode.request(d.live.game.info, d.observation, maxNewTokens));
          const results = requests.length === 0 ? [] : await policy.generate(requests, rng);
          return results.map((r, i) => readReply(mode, r, decisions[i]?.observation as Observation));
        },
      }],
      concurrency: 3,
      next: () => {
        if (started >= (options.games ?? 4)) return undefined;
        const game = getGame(["TicTacToe-v0", "KuhnPoker-v1-1round", "Nim-v0"][started % 3] as string);
        return { game, seed: started++, sides: [0, 0], players: [policy.name, policy.name], context: null };
      },
      scoring: "evaluation",
      turnCap: 12,
      onEnd: (_live, record) => ended.push(record),
    });
    if (ended.length !== (options.games ?? 4)) fail(`${mode.name} play: ${ended.length} of ${options.games ?? 4} games ended`);
    for (const r of ended) if (!END_REASONS.includes(r.endReason) || r.endReason === "transport") fail(`${mode.name} play: ${r.gameId} ended with ${r.endReason}`);
  }
}

/** Every failure of `policy` against the invariants above; empty when it conforms. */
export async function checkPolicyConformance(policy: Policy, options: PolicyConformanceOptions): Promise<string[]> {
  const failures: string[] = [];
  const fail = (what: string): void => void failures.push(what);
  if (typeof policy.name !== "string" || policy.name === "") fail("name must be a non-empty string");
  if (!Number.isFinite(policy.version)) fail("version must be a finite number");
  for (const check of [generateChecks, choiceChecks, playChecks]) {
    try {
      await check(policy, options, fail);
    } catch (e) {
      fail(`${check.name} threw: ${(e as Error).message}`);
    }
  }
  return failures;
}

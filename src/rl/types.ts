/**
 * The records that flow between actors, RAE and the learner.
 *
 * Invariants:
 * - Every record is plain data (numbers, strings, arrays, plain objects; no class instances, no
 *   functions, no typed arrays), so it survives `structuredClone`, `postMessage` to a worker
 *   thread and `JSON.stringify` to another process unchanged. Actors may live elsewhere.
 * - A `Sample` is one decision of one seat: the prompt it saw, the tokens it generated and the
 *   sampler's log-prob of each generated token (`logprobs.length === generatedIds.length`).
 * - `(actorId, gameIndex)` names one game uniquely within a step; RAE joins a game's samples to
 *   its `GameResult` by that key and by seat.
 * - `returns` are the training returns of docs/training.md, "One policy step" 2 (win +1, loss −1, draw 0; an invalid move
 *   ends the game with the offender at −1.5 and the other seat at +0.5).
 */
import type { Seat } from "../games/game.js";
import type { GameRecord } from "../games/game-record.js";

/** One decision: a prompt, the reply the policy generated, and what is needed to learn from it. */
export interface Sample {
  readonly gameId: string;
  readonly seat: Seat;
  /** Which actor played the game (0 when single-threaded). */
  readonly actorId: number;
  /** Index of the game within its actor's step: with `actorId`, the key RAE joins on. */
  readonly gameIndex: number;
  /** Moves applied in the game before this decision. */
  readonly turn: number;
  /** Prompt tokens, as fed to the model [P]. */
  readonly promptIds: readonly number[];
  /** Generated tokens, EOS included when the policy produced one [G]. */
  readonly generatedIds: readonly number[];
  /** Sampler log-prob of each generated token [G]. */
  readonly logprobs: readonly number[];
  /**
   * Constrained decoding: for each generated token the ids that were allowed at that step [G][*],
   * null at free steps; absent when decoding was free throughout. The learner masks its
   * log-softmax to the same sets.
   */
  readonly allowedIds?: readonly (readonly number[] | null)[];
  /** Version of the weights that generated this sample (the learner step that produced them). */
  readonly policyVersion: number;
  /** Set when the sample must not be trained on (an endpoint reply whose token ids did not check out): why. */
  readonly untrainable?: string;
  /** The decoded reply (for transcripts and reply-length metrics). */
  readonly text: string;
}

/** A sample with its advantage, as RAE hands it to the learner. */
export interface ScoredSample extends Sample {
  /** The scalar advantage given to every generated token of this sample. */
  readonly advantage: number;
}

export type { EndReason, MoveRecord } from "../games/game-record.js";

/**
 * A game the actor finished: the one game record (games/game-record.ts; `returns` are training
 * returns, docs/training.md "One policy step" 2) and which actor game it was.
 */
export interface GameResult extends GameRecord {
  readonly actorId: number;
  readonly gameIndex: number;
  /**
   * Seats whose decisions were made by the trained policy: both in self-play, one against a
   * fixed opponent. Only these seats' outcomes update RAE baselines.
   */
  readonly trainedSeats: readonly Seat[];
}

/** One finished game with the trained policy's samples from it. */
export interface Trajectory {
  readonly result: GameResult;
  readonly samples: readonly Sample[];
}

/** What one actor hands over for one policy step. */
export interface Rollout {
  /** Every game the actor finished this step, in the order they finished. */
  readonly trajectories: readonly Trajectory[];
  /** Exactly `rolloutBatch` samples drawn from the finished games (fewer only if too few exist). */
  readonly batch: readonly Sample[];
  /** Policy calls made and wall time spent generating, for throughput metrics. */
  readonly policyCalls: number;
  readonly generatedTokens: number;
  readonly seconds: number;
  /** Set when the actor stopped early because its (remote) policy could answer nothing any more: why. */
  readonly lost?: string;
}

/** What the learner trains on in one step. */
export interface StepBatch {
  readonly step: number;
  /** Samples with non-zero advantage (zero-advantage samples dropped by RAE). */
  readonly samples: readonly ScoredSample[];
  /** Results of all games finished for this step (for metrics). */
  readonly results: readonly GameResult[];
}

// spiral/rl: the SPIRAL trainer — records, RAE, losses, actors, evaluation, config and the loop.
export { collectRollout, checkActorOptions, type ActorOptions, type WeightedGame } from "./actor.js";
export type { PromptMode } from "../policy/prompt-mode.js";
export { mergeConfig, parseTrainConfig, resolveTrainConfig, trainConfigSchema, trainPresets, type TrainConfig, type TrainConfigInput } from "./config.js";
export { evaluate, findInfoSetObservations, kuhnProfileOf, playMatchup, type EvalOptions, type EvalReport, type Matchup, type MatchupReport } from "./eval.js";
export { learnStep, packBatch, recomputeLogprobs, type LearnerEngine, type LearnerOptions, type LearnerStats } from "./learner.js";
export { referenceLoss, type LossKind, type LossOptions, type LossResult, type LossSample } from "./loss-reference.js";
export { EVAL_MATCHUPS, train, type EvalMetrics, type StepMetrics, type TrainerState, type TrainHooks, type TrainOptions, type TrainSummary } from "./loop.js";
export { encodePrompt, modelPolicy, type ModelPolicyOptions } from "../policy/model-policy.js";
export { randomPolicy, type Policy, type PolicyRequest, type PolicyResult, type PromptInput, type RandomPolicyOptions } from "../policy/policy.js";
export { chatMode, compactMode, promptMode, type PromptModeName } from "../policy/prompt-mode.js";
export { baseline, checkRaeState, createRae, DEFAULT_RAE_ALPHA, raeUpdate, scoreSamples, type RaeState } from "./rae.js";
export { appendMetrics, latestCheckpoint, listCheckpoints, readMetrics, setAsideAfter, type MetricsRecord } from "./run-dir.js";
export { addOutcome, outcomeRates, wilson, type Interval, type OutcomeRates, type Outcomes } from "../eval/stats.js";
export type { EndReason, GameResult, MoveRecord, Rollout, Sample, ScoredSample, StepBatch, Trajectory } from "./types.js";

/**
 * The public API of spiral: SPIRAL (self-play on zero-sum text games with role-conditioned
 * advantage estimation) in TypeScript. Subpath exports give the full layers: `spiral/games`,
 * `spiral/engine`, `spiral/rl`, `spiral/eval`; this entry re-exports what most users need.
 */
export type { Agent, AgentReply, AnyGame, Game, GameInfo, MatchRecord, Observation, Rng, Seat } from "./games/index.js";
export { createRng, getGame, listGames, playMatch, makeReferenceAgent, randomAgent } from "./games/index.js";

export type { ChatMessage, ModelConfig, Tokenizer } from "./engine/index.js";
export { Generator, loadCheckpoint, loadTokenizer, modelPreset, saveCheckpoint } from "./engine/index.js";

export type { TrainConfig, TrainConfigInput, TrainSummary, Policy } from "./rl/index.js";
export { evaluate, parseTrainConfig, train, trainPresets } from "./rl/index.js";

export { chatPrompt, compactPrompt, extractAction } from "./prompt/index.js";
export { gradeReply, isEquivalent, loadMathSet } from "./eval/index.js";

/**
 * The public API of `spiral/eval`: math benchmark sets and the boxed-answer grader; policy specs
 * (checkpoint, reference agent, openai:<url>#<model>), arenas between any two policies,
 * tournaments with Bradley–Terry ratings, exact TicTacToe/Kuhn analyses, the math benchmark
 * runner and the OpenAI-compatible server. Training-time evaluation lives in `spiral/rl`
 * (evaluate) and the exact solvers in `spiral/games` (kuhnExploitability, ticTacToeSolve).
 */
export type { AnswerValue, Extraction, GradeOptions, GraderName, ReplyGrade } from "./math-grade.js";
export { gradeReply, isEquivalent, extractAnswer, lastBoxed, normalizeAnswer, parseAnswer, ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE, GRADERS } from "./math-grade.js";
export { REFERENCE_RELATIVE_TOLERANCE } from "./math-reference.js";
export type { MathProblem } from "./math-data.js";
export { loadMathSet, parseMathSet } from "./math-data.js";
export { mathPrompt, mathPromptR1 } from "../prompt/math.js";
export type { PolicySpec, OpenedPolicy, PolicyPlayer, AgentPlayer, SamplingSettings } from "../policy/policy-spec.js";
export { parsePolicySpec, formatPolicySpec, openPolicy, openCheckpoint, referenceAgentFor, agentOf, OPTIMAL_BY_GAME, REFERENCE_NAMES } from "../policy/policy-spec.js";
export type { OpenAIPolicyOptions, RemoteResult } from "../policy/openai-policy.js";
export { openaiPolicy, TransportError, API_KEY_ENV, apiKeyFromEnv } from "../policy/openai-policy.js";
export type { ArenaGame, ArenaOptions, ArenaReport, SideStats } from "./arena.js";
export { runArena, meanReply } from "./arena.js";
export type { PairResult, Rating } from "./ratings.js";
export { bradleyTerry } from "./ratings.js";
export type { KuhnReport, OptimalMoveReport } from "./analyses.js";
export { kuhnAnalysis, ticTacToeOptimalRate } from "./analyses.js";
export type { GraderSummary, MathBenchOptions, MathBenchResult, ProblemResult, SampleResult, SampleVerdict } from "./bench-math.js";
export { benchMath, MATH_TEMPERATURE, MATH_TOP_P } from "./bench-math.js";
export type { RunningServer, ServeOptions } from "../serve/server.js";
export { serveModel, startServer } from "../serve/server.js";

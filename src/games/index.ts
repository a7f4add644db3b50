/**
 * The public API of `spiral/games`: the game contract, the seeded RNG, the registry, the match
 * runner and its records, the conformance check, the games themselves and the reference agents.
 * Game internals (state layouts, log helpers, solvers' tables) stay internal.
 */
export type { AnyGame, Game, GameInfo, GameState, GameVariant, Message, Observation, ParseResult, RulesMode, Seat } from "./game.js";
export { baseGameId, otherSeat, outcomeReturns, parseGameSpec, RULES_MODES, SEATS, withRules } from "./game.js";
export type { ReplyMatch } from "./reply-pattern.js";
export type { Agent, AgentReply } from "./agent.js";
export type { Rng, RngState } from "../core/rng.js";
export { createRng, rngFromState } from "../core/rng.js";

export type { GameListing } from "./registry.js";
export { gameIds, gameVariants, getGame, getVariant, hasReferenceRules, listGames } from "./registry.js";
export { trainingGameVariants } from "./training-games.js";
export { evaluationGameVariants } from "./evaluation-games.js";

export { END_REASONS, readGameRecord, type GameRecord, type MoveRecord, type ReadGameRecord } from "./game-record.js";
export type { EndReason, Judgement, MatchOptions, MatchRecord, MatchStep, ReplayOptions, ReplayResult, Scoring, TransportFailure } from "./match.js";
export { INVALID_MOVE_SCORES, judgeReply, playMatch, replayActions, retryNotice, scoreInvalid, withNotices } from "./match.js";
export { messageText, newMessages, observationText, parseMatchRecord, verifyReplay } from "./record.js";
export type { ConformanceOptions, ConformanceReport } from "./conformance.js";
export { checkConformance } from "./conformance.js";

export { ticTacToe, ticTacToeOptimalMoves, ticTacToeSolve } from "./tictactoe.js";
export type { TicTacToeInfoState } from "./tictactoe.js";
export { kuhnPoker } from "./kuhn-poker.js";
export type { KuhnCard, KuhnInfoState, KuhnMove } from "./kuhn-poker.js";
export { kuhnExploitability, kuhnInfoSets, kuhnNashProfile, kuhnUniformProfile, kuhnValue } from "./kuhn-exact.js";
export type { KuhnBehaviour } from "./kuhn-exact.js";
export { simpleNegotiation } from "./simple-negotiation.js";
export type { NegotiationAction, NegotiationInfoState } from "./simple-negotiation.js";
export { connectFour } from "./connect-four.js";
export { nim } from "./nim.js";
export { pigDice } from "./pig-dice.js";
export { liarsDice } from "./liars-dice.js";
export { referenceHasRoad, simpleTak, simpleTakReference } from "./simple-tak.js";
export { snake, snakeReference } from "./snake.js";

export { kuhnNashAgent, kuhnProfileAgent, negotiationHeuristicAgent, randomAgent, ticTacToeMinimaxAgent } from "./agents/index.js";
export { makeReferenceAgent, referenceAgentNames } from "./agent-registry.js";

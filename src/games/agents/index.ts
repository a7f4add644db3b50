/** Reference agents: opponents for evaluation and baselines for tests. */
export { randomAgent } from "./random.js";
export { ticTacToeMinimaxAgent } from "./tictactoe-minimax.js";
export { kuhnNashAgent, kuhnProfileAgent } from "./kuhn-nash.js";
export { negotiationHeuristicAgent } from "./negotiation-heuristic.js";

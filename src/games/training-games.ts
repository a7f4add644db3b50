/**
 * SPIRAL's training games as registry entries: the games the policy learns from by self-play.
 * `KuhnPoker-v1-1round` is the textbook Kuhn poker (value −1/18 for the first to act), kept for
 * exact analysis of the policy.
 */
import type { GameVariant } from "./game.js";
import { ticTacToe } from "./tictactoe.js";

export const trainingGameVariants: readonly GameVariant[] = [
  { id: "TicTacToe-v0", split: "training", make: () => ticTacToe },
];

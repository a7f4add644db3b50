/**
 * SPIRAL's training games as registry entries: the games the policy learns from by self-play.
 * `KuhnPoker-v1-1round` is the textbook Kuhn poker (value −1/18 for the first to act), kept for
 * exact analysis of the policy (`kuhn-exact.ts`).
 */
import type { GameVariant } from "./game.js";
import { kuhnPoker } from "./kuhn-poker.js";
import { simpleNegotiation } from "./simple-negotiation.js";
import { ticTacToe } from "./tictactoe.js";

export const trainingGameVariants: readonly GameVariant[] = [
  { id: "TicTacToe-v0", split: "training", make: () => ticTacToe },
  { id: "KuhnPoker-v1", split: "training", make: () => kuhnPoker({ rounds: 5 }), makeReference: () => kuhnPoker({ rounds: 5, rules: "reference" }) },
  { id: "KuhnPoker-v1-1round", split: "training", make: () => kuhnPoker({ rounds: 1 }), makeReference: () => kuhnPoker({ rounds: 1, rules: "reference" }) },
  { id: "SimpleNegotiation-v1", split: "training", make: () => simpleNegotiation },
];

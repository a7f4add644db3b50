/**
 * The held-out evaluation games: SPIRAL trains on TicTacToe, Kuhn Poker and Simple Negotiation
 * and measures transfer on these. Ids and defaults follow the published TextArena ids.
 */
import { connectFour } from "./connect-four.js";
import type { GameVariant } from "./game.js";
import { liarsDice } from "./liars-dice.js";
import { nim } from "./nim.js";
import { pigDice } from "./pig-dice.js";
import { simpleTak, simpleTakReference } from "./simple-tak.js";
import { snake, snakeReference } from "./snake.js";

export const evaluationGameVariants: readonly GameVariant[] = [
  { id: "ConnectFour-v0", split: "evaluation", make: () => connectFour },
  { id: "Nim-v0", split: "evaluation", make: () => nim },
  { id: "PigDice-v1", split: "evaluation", make: () => pigDice },
  { id: "LiarsDice-v1", split: "evaluation", make: () => liarsDice({ dice: 5 }) },
  { id: "SimpleTak-v0", split: "evaluation", make: () => simpleTak, makeReference: () => simpleTakReference },
  { id: "Snake-v0", split: "evaluation", make: () => snake, makeReference: () => snakeReference },
];

/** Hand-made game infos and observations for prompt tests (no dependency on the games). */
import type { GameInfo, Observation } from "../games/game.js";

function info(id: string, name: string, actionSpace: GameInfo["actionSpace"], information: GameInfo["information"]): GameInfo {
  return {
    id,
    name,
    summary: `${name} for tests`,
    params: {},
    seats: 2,
    maxTurns: 10,
    minReturn: -1.5,
    maxReturn: 1.5,
    information,
    actionSpace,
    simultaneous: false,
  };
}

export const TICTACTOE_INFO = info("TicTacToe-v0", "Tic Tac Toe", "enumerable", "perfect");
export const KUHN_INFO = info("KuhnPoker-v1", "Kuhn Poker", "enumerable", "imperfect");
export const NEGOTIATION_INFO = info("SimpleNegotiation-v1", "Simple Negotiation", "free-text", "perfect");

const TICTACTOE_BOARD = [" O | 1 | 2 ", "---+---+---", " 3 | X | 5 ", "---+---+---", " 6 | 7 | 8 "].join("\n");
const TICTACTOE_VIEW = `${TICTACTOE_BOARD}\nAvailable moves: [1], [2], [3], [5], [6], [7], [8]`;

/** Player 0 (O) to move after O took 0 and X took 4. */
export const TICTACTOE_OBSERVATION: Observation = {
  seat: 0,
  turn: 2,
  log: [
    { kind: "rules", text: "You are Player 0 and play O. Place your mark on an empty cell 0-8 with [c], e.g. [4]. Three in a row wins." },
    { kind: "action", seat: 0, text: "[0]" },
    { kind: "action", seat: 1, text: "[4]" },
    { kind: "state", text: TICTACTOE_BOARD },
  ],
  view: TICTACTOE_VIEW,
  legal: ["[1]", "[2]", "[3]", "[5]", "[6]", "[7]", "[8]"],
  infoState: { board: ["O", "", "", "", "X", "", "", "", ""] },
};

const KUHN_VIEW = "Round 2 of 5. Your card: K. Chips: you 2, opponent -2. Pot 3. Opponent bet. Legal: [fold], [call]";

/** Player 1 holding K, facing a bet in round 2. */
export const KUHN_OBSERVATION: Observation = {
  seat: 1,
  turn: 3,
  log: [
    { kind: "rules", text: "Kuhn Poker with the cards J < Q < K. Actions: [check], [bet], [call], [fold]." },
    { kind: "notice", text: "Round 1: you hold Q." },
    { kind: "action", seat: 1, text: "[bet]" },
    { kind: "action", seat: 0, text: "[fold]" },
    { kind: "notice", text: "Round 2: you hold K." },
    { kind: "action", seat: 0, text: "[bet]" },
    { kind: "state", text: KUHN_VIEW },
  ],
  view: KUHN_VIEW,
  legal: ["[fold]", "[call]"],
  infoState: { card: "K" },
};

const NEGOTIATION_VIEW = "Turn 3 of 10. You have 10 Wood, 10 Gold (values: Wood 5, Gold 15). Open offer to you: 3 Wood -> 2 Gold.";

function allOffers(): string[] {
  const offers = ["[Accept]", "[Deny]"];
  for (const [give, get] of [
    ["Wood", "Gold"],
    ["Gold", "Wood"],
  ] as const) {
    for (let a = 1; a <= 10; a++) for (let b = 1; b <= 10; b++) offers.push(`[Offer: ${a} ${give} -> ${b} ${get}]`);
  }
  return offers;
}

export const NEGOTIATION_OBSERVATION: Observation = {
  seat: 0,
  turn: 2,
  log: [
    { kind: "rules", text: "Trade Wood and Gold. Make offers with [Offer: 3 Wood -> 2 Gold], answer with [Accept] or [Deny]." },
    { kind: "action", seat: 0, text: "Hello! I would like some gold." },
    { kind: "action", seat: 1, text: "Sure, here is my offer [Offer: 3 Wood -> 2 Gold]" },
    { kind: "state", text: NEGOTIATION_VIEW },
  ],
  view: NEGOTIATION_VIEW,
  legal: allOffers(),
  infoState: {},
};

/** A finished game: no legal actions. */
export const TERMINAL_OBSERVATION: Observation = {
  ...TICTACTOE_OBSERVATION,
  log: [...TICTACTOE_OBSERVATION.log, { kind: "notice", text: "Player 1 wins." }],
  legal: [],
};

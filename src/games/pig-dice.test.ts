import { describe, expect, it } from "vitest";
import type { Seat } from "./game.js";
import { pigDice, type PigDiceAction, type PigDiceInfoState, type PigDiceState } from "./pig-dice.js";
import { createRng, rngFromState } from "../core/rng.js";

function step(state: PigDiceState, action: PigDiceAction): PigDiceState {
  return pigDice.apply(state, pigDice.toAct(state)[0] as Seat, action);
}

/** The first seed whose opening roll is `face`, found by playing it. */
function seedWithFirstRoll(face: number): number {
  for (let seed = 0; seed < 1000; seed++) {
    if (step(pigDice.init(seed), "roll").lastRoll === face) return seed;
  }
  throw new Error(`no seed opens with a ${face}`);
}

describe("PigDice-v1", () => {
  it("a roll of 1 wipes the turn total and passes the turn", () => {
    const seed = seedWithFirstRoll(1);
    const start = { ...pigDice.init(seed), turnTotal: 12 };
    const after = step(start, "roll");
    expect(after.lastRoll).toBe(1);
    expect(after.turnTotal).toBe(0);
    expect(after.toMove).toBe(1);
    expect(after.scores).toEqual([0, 0]);
    expect(pigDice.observe(after, 1).log.some((m) => m.kind === "notice" && m.text.includes("loses the turn total of 12"))).toBe(true);
  });

  it("a roll of 2–6 adds to the turn total and keeps the turn; hold banks it", () => {
    const seed = seedWithFirstRoll(5);
    const rolled = step(pigDice.init(seed), "roll");
    expect(rolled.turnTotal).toBe(5);
    expect(rolled.toMove).toBe(0);
    const held = step(rolled, "hold");
    expect(held.scores).toEqual([5, 0]);
    expect(held.turnTotal).toBe(0);
    expect(held.toMove).toBe(1);
    expect(pigDice.isTerminal(held)).toBe(false);
  });

  it("draws dice from the state RNG: same seed, same rolls; faces uniform within 3 sigma", () => {
    const counts = [0, 0, 0, 0, 0, 0];
    for (let seed = 0; seed < 6000; seed++) {
      const state = pigDice.init(seed);
      const roll = step(state, "roll").lastRoll as number;
      expect(roll).toBe(rngFromState(state.rng).int(6) + 1);
      counts[roll - 1]!++;
    }
    // Binomial(6000, 1/6): mean 1000, sd ≈ 28.9.
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(3 * 28.9);
    expect(step(pigDice.init(42), "roll")).toEqual(step(pigDice.init(42), "roll"));
  });

  it("banking 50 wins at once", () => {
    const state: PigDiceState = { ...pigDice.init(0), scores: [44, 30], turnTotal: 6 };
    const won = step(state, "hold");
    expect(pigDice.isTerminal(won)).toBe(true);
    expect(pigDice.returns(won)).toEqual([1, -1]);
    expect(pigDice.observe(won, 1).view).toContain("Player 0 reached 50 points and wins.");
    const short = step({ ...state, turnTotal: 5 }, "hold");
    expect(pigDice.isTerminal(short)).toBe(false);
  });

  it("the cap counts turns (a hold or a rolled 1 ends one), not actions: after the 50th turn the higher banked score wins", () => {
    let state = pigDice.init(0);
    for (let i = 0; i < 50; i++) state = step(state, "hold");
    expect(pigDice.isTerminal(state)).toBe(true);
    expect(state.turn).toBe(50);
    expect(state.turnsPlayed).toBe(50);
    expect(pigDice.returns(state)).toEqual([0, 0]);

    // 49 turns played; Player 1 rolls on its last turn: rolls do not end a turn, so the game goes on
    // past 50 actions until that turn ends.
    const late: PigDiceState = { ...pigDice.init(seedWithFirstRoll(5)), turn: 49, turnsPlayed: 49, scores: [24, 20], turnTotal: 0, toMove: 1 };
    const rolled = step(late, "roll");
    expect(rolled.turn).toBe(50);
    expect(pigDice.isTerminal(rolled)).toBe(false);
    const rolledAgain = step(step(rolled, "roll"), "roll");
    expect(rolledAgain.turn).toBe(52);
    if (!pigDice.isTerminal(rolledAgain)) {
      const capped = step({ ...rolledAgain, turnTotal: 5 }, "hold");
      expect(pigDice.isTerminal(capped)).toBe(true);
      expect(pigDice.returns(capped)).toEqual([-1, 1]);
      expect(pigDice.observe(capped, 0).view).toContain("higher score at the turn cap");
    }
    // An unbanked turn total does not count at the cap: a rolled 1 ends the 50th turn.
    const one = seedWithFirstRoll(1);
    const bust = step({ ...pigDice.init(one), turnsPlayed: 49, scores: [24, 20], turnTotal: 30, toMove: 0 }, "roll");
    expect(pigDice.isTerminal(bust)).toBe(true);
    expect(pigDice.returns(bust)).toEqual([1, -1]);
    // One turn earlier the game goes on.
    expect(pigDice.isTerminal(step({ ...pigDice.init(one), turnsPlayed: 48, toMove: 0 }, "roll"))).toBe(false);
  });

  it("random games end within the cap with bounded returns", () => {
    const rng = createRng("pig-random");
    for (let game = 0; game < 500; game++) {
      let state = pigDice.init(game);
      while (!pigDice.isTerminal(state)) state = step(state, rng.choice(["roll", "hold"] as const));
      expect(state.turn).toBeLessThanOrEqual(pigDice.info.maxTurns);
      const [r0, r1] = pigDice.returns(state);
      expect(r0 + r1).toBe(0);
      expect(Math.sign(r0)).toBe(Math.sign(state.scores[0] - state.scores[1]));
    }
  });

  it("parses with the reference pattern \\[(roll|hold|r|h)\\]: case-insensitive, shorthands, the first match", () => {
    const state = pigDice.init(0);
    const read = (text: string) => {
      const result = pigDice.parse(state, 0, text);
      return result.ok ? result.action : result.reason;
    };
    expect(read("[roll]")).toBe("roll");
    expect(read("I should [HOLD] rather than [roll]")).toBe("hold");
    expect(read("[r]")).toBe("roll");
    expect(read("[H]")).toBe("hold");
    expect(read("[h] then [roll]")).toBe("hold");
    expect(read("[ Roll ]")).toMatch(/No action found/);
    expect(read("[bet] [hold]")).toBe("hold");
    expect(read("roll")).toMatch(/No action found/);
    expect(read("[rolling]")).toMatch(/No action found/);
    expect(pigDice.isLegal(state, 1, "roll")).toBe(false);
  });

  it("views show both scores, the turn total and the turns left", () => {
    const obs = pigDice.observe({ ...pigDice.init(0), scores: [12, 7], turnTotal: 4, turn: 14, turnsPlayed: 10 }, 1);
    expect(obs.view).toContain("Banked scores: you 7, Player 0 12.");
    expect(obs.view).toContain("Player 0's turn): 4.");
    expect(obs.view).toContain("Turns left before the cap: 40 (this one included).");
    expect(obs.legal).toEqual([]);
    expect((obs.infoState as PigDiceInfoState).turnsLeft).toBe(40);
  });
});

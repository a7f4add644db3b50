/**
 * Checks every evaluation game owes, beyond its own known answers: the generic invariants of
 * game.ts under random play (the shared conformance suite runs them too, over all games) and a
 * parser that never throws and stays fast on hostile replies.
 */
import { describe, expect, it } from "vitest";
import { evaluationGameVariants } from "./evaluation-games.js";
import type { AnyGame, Observation, Seat } from "./game.js";
import { createRng } from "../core/rng.js";

const HOSTILE_REPLIES: readonly string[] = [
  "",
  " ",
  "[]",
  "[",
  "]",
  "][",
  "[[[[",
  "]]]][[[[",
  "[".repeat(100_000),
  "]".repeat(100_000),
  "[]".repeat(50_000),
  "x".repeat(100_000),
  "[" + "9".repeat(100_000) + "]",
  "[1" + " ".repeat(100_000) + "x]",
  "[pile" + " ".repeat(100_000) + "x]",
  "[bid" + " ".repeat(100_000) + "x]",
  "[Bid: 1" + " ".repeat(100_000) + "x]",
  "[" + "a[".repeat(50_000) + "]",
  "💥[🙂] [𝟛] [３] [\u0000] [\u202e3]",
  "[col\u00a03] [\ufeff2]",
  "[-1] [1e3] [0x3] [NaN] [Infinity] [3.0] [+2]",
  "[constructor] [__proto__] [toString] [hasOwnProperty]",
  "[[[3]]] [[roll]] [[Call]] [[up]] [[0 2]]",
  "\\boxed{[3]} <think>[hold]</think> [Bid: 2, 3] [Call] [left] [0 1]",
  "[Bid: 99999999999999999999, 3] [0 99999999999999999999]",
];

/** Everything a seat is shown, as one string. */
function shown(obs: Observation): string {
  return [obs.view, ...obs.log.map((m) => m.text), ...obs.legal, JSON.stringify(obs.infoState)].join("\n");
}

/** Plays one random game, checking the contract's invariants at every step; returns a record. */
function randomGame(game: AnyGame, seed: number): string[] {
  const rng = createRng(`eval-${game.info.id}-${seed}`);
  let state = game.init(seed);
  const record: string[] = [];
  while (!game.isTerminal(state)) {
    const toAct = game.toAct(state) as Seat[];
    expect(toAct.length).toBeGreaterThan(0);
    expect(game.returns(state)).toEqual([0, 0]);
    for (const seat of [0, 1] as const) {
      const legal = game.legalActions(state, seat);
      const obs = game.observe(state, seat);
      expect(obs.legal).toEqual(legal.map((a) => game.format(a)));
      if (!toAct.includes(seat)) {
        expect(legal).toEqual([]);
        continue;
      }
      expect(legal.length).toBeGreaterThan(0);
      expect(new Set(obs.legal).size).toBe(legal.length);
      // One expect for the whole list: per-action expects dominate the run time on 61-move lists.
      const unreadable = legal
        .map((action) => game.format(action))
        .filter((text) => {
          const parsed = game.parse(state, seat, text);
          return !parsed.ok || game.format(parsed.action) !== text || !game.isLegal(state, seat, parsed.action);
        });
      expect(unreadable).toEqual([]);
      for (const hidden of game.privateInfo(state, seat)) {
        expect(shown(obs)).toContain(hidden);
        expect(shown(game.observe(state, seat === 0 ? 1 : 0))).not.toContain(hidden);
      }
    }
    const seat = rng.choice(toAct);
    const action = rng.choice(game.legalActions(state, seat));
    const before = JSON.stringify(state);
    const next = game.apply(state, seat, action);
    expect(JSON.stringify(state)).toBe(before);
    record.push(`${seat}:${game.format(action)}`);
    state = next;
    expect(state.turn).toBe(record.length);
    expect(state.turn).toBeLessThanOrEqual(game.info.maxTurns);
  }
  const returns = game.returns(state);
  expect(returns[0] + returns[1]).toBe(0);
  for (const r of returns) {
    expect(r).toBeGreaterThanOrEqual(game.info.minReturn);
    expect(r).toBeLessThanOrEqual(game.info.maxReturn);
  }
  for (const seat of [0, 1] as const) {
    const obs = game.observe(state, seat);
    expect(obs.legal).toEqual([]);
    expect(obs.log[0]?.kind).toBe("rules");
    expect(obs.view).toMatch(/Game over/);
  }
  record.push(`returns ${returns.join(",")}`);
  return record;
}

describe("evaluation games", () => {
  it("lists the six published ids, each as an evaluation game whose info carries the same id", () => {
    expect(evaluationGameVariants.map((v) => v.id)).toEqual([
      "ConnectFour-v0",
      "Nim-v0",
      "PigDice-v1",
      "LiarsDice-v1",
      "SimpleTak-v0",
      "Snake-v0",
    ]);
    for (const variant of evaluationGameVariants) {
      const game = variant.make();
      expect(variant.split).toBe("evaluation");
      expect(game.info.id).toBe(variant.id);
      expect(game.info.seats).toBe(2);
      expect(game.info.minReturn).toBe(-1);
      expect(game.info.maxReturn).toBe(1);
    }
  });

  for (const variant of evaluationGameVariants) {
    describe(variant.id, () => {
      const game = variant.make();

      it("keeps the contract's invariants over 40 random games, and same seed gives the same game", () => {
        for (let seed = 0; seed < 40; seed++) randomGame(game, seed);
        expect(randomGame(game, 12345)).toEqual(randomGame(game, 12345));
      });

      it("never throws on hostile replies, and reads 100 KB in under a second (linear, ~10 ms; quadratic would take seconds)", () => {
        const state = game.init(0);
        const seat = game.toAct(state)[0] as Seat;
        for (const reply of HOSTILE_REPLIES) {
          const start = performance.now();
          const result = game.parse(state, seat, reply);
          expect(performance.now() - start).toBeLessThan(1000);
          if (!result.ok) expect(result.reason.length).toBeGreaterThan(10);
        }
        const notText = game.parse(state, seat, undefined as unknown as string);
        expect(notText.ok).toBe(false);
      });
    });
  }
});

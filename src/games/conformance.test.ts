/**
 * One conformance suite over every registered game (game.ts invariants, by uniform-random play
 * over 500 fixed seeds per game), plus checks that the checker itself catches broken games.
 */
import { describe, expect, it } from "vitest";
import { randomAgent } from "./agents/random.js";
import { checkConformance } from "./conformance.js";
import type { AnyGame, Observation } from "./game.js";
import { playMatch, replayActions } from "./match.js";
import { parseMatchRecord } from "./record.js";
import { gameVariants, getGame } from "./registry.js";
import { pennies, secretSum } from "./test-games.js";

const GAMES_PER_GAME = 500;

for (const variant of gameVariants) {
  describe(`conformance: ${variant.id}`, () => {
    const game = getGame(variant.id);

    it(`keeps every invariant over ${GAMES_PER_GAME} random games`, () => {
      const report = checkConformance(game, { games: GAMES_PER_GAME });
      expect(report.failures).toEqual([]);
      expect(report.maxMoves).toBeLessThanOrEqual(game.info.maxTurns);
      expect(report.moves).toBeGreaterThanOrEqual(GAMES_PER_GAME);
      // Random play reaches more than one outcome in every game we ship.
      expect(Object.keys(report.outcomes).length).toBeGreaterThan(1);
    });

    it("gives identical records for the same seed, and replays them to the same observations", async () => {
      const agents = [randomAgent(), randomAgent()] as const;
      for (const seed of [0, 1, 2, 3, 4]) {
        const a = await playMatch({ game, agents, seed, scoring: "training" });
        const b = await playMatch({ game, agents, seed, scoring: "training" });
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
        expect(a.endReason).toBe("terminal");
        // Records are plain data: they survive JSON (observations' infoState included).
        expect(parseMatchRecord(JSON.stringify(a))).toEqual(a);
        const replay = await replayActions(game, seed, a.steps.map((s) => s.reply ?? ""), { scoring: "training" });
        expect(replay.steps.map((s) => s.observation)).toEqual(a.steps.map((s) => s.observation));
        expect(replay.returns).toEqual(a.returns);
      }
    });
  });
}

// The reference-rules variants (`ID:reference`) keep the same invariants (Snake's published
// returns excepted from zero-sum); fewer games, as they share everything else with ours.
for (const variant of gameVariants.filter((v) => v.makeReference !== undefined)) {
  describe(`conformance: ${variant.id}:reference`, () => {
    it("keeps every invariant over 200 random games", () => {
      const game = getGame(`${variant.id}:reference`);
      expect(game.info.id).toBe(`${variant.id}:reference`);
      expect(game.info.params.rules).toBe("reference");
      const report = checkConformance(game, { games: 200 });
      expect(report.failures).toEqual([]);
      expect(report.maxMoves).toBeLessThanOrEqual(game.info.maxTurns);
    });
  });
}

describe("checkConformance catches broken games", () => {
  const small = { games: 40 };

  it("passes the framework's own test games", () => {
    expect(checkConformance(secretSum, small).failures).toEqual([]);
    expect(checkConformance(pennies, small).failures).toEqual([]);
  });

  it("reports a leak of the other seat's private information", () => {
    const leaky: AnyGame = {
      ...secretSum,
      observe(state: Parameters<typeof secretSum.observe>[0], seat: 0 | 1): Observation {
        const base = secretSum.observe(state, seat);
        return { ...base, view: `${base.view} (opponent's secret digit is ${state.secrets[seat === 0 ? 1 : 0]})` };
      },
    };
    expect(checkConformance(leaky, small).failures[0]).toMatch(/reveals Player 1's private "secret digit is \d"/);
  });

  it("reports a simultaneous game that shows the first seat's buffered move to the other seat", () => {
    const peeking: AnyGame = {
      ...pennies,
      observe(state: Parameters<typeof pennies.observe>[0], seat: 0 | 1): Observation {
        const base = pennies.observe(state, seat);
        const theirs = state.pending[seat === 0 ? 1 : 0];
        return theirs === null ? base : { ...base, view: `${base.view} Opponent: pending ${theirs}.` };
      },
    };
    expect(checkConformance(peeking, small).failures[0]).toMatch(/\(mid-round\): Player 1's observation reveals Player 0's private "pending (heads|tails)"/);
  });

  it("reports an apply that mutates its input", () => {
    const mutating: AnyGame = {
      ...secretSum,
      apply(state: { turn: number }, seat: 0 | 1, action: number) {
        const next = secretSum.apply(state as never, seat, action);
        (state as { turn: number }).turn = next.turn;
        return next;
      },
    };
    expect(checkConformance(mutating, { games: 2, frozenGames: 0 }).failures[0]).toMatch(/mutated its input/);
    expect(checkConformance(mutating, { games: 2, frozenGames: 1 }).failures[0]).toMatch(/threw: .*read.only|threw: .*assign/i);
  });

  it("reports returns that are not zero-sum or out of range, and overlong games", () => {
    const unfair: AnyGame = { ...secretSum, returns: (s: never) => (secretSum.isTerminal(s) ? [1, 0] : [0, 0]) };
    expect(checkConformance(unfair, small).failures[0]).toMatch(/do not sum to 0/);
    const bounded: AnyGame = { ...secretSum, info: { ...secretSum.info, maxReturn: 0.5 } };
    expect(checkConformance(bounded, small).failures.join("\n")).toMatch(/outside \[-1, 0.5\]/);
    const capped: AnyGame = { ...secretSum, info: { ...secretSum.info, maxTurns: 3 } };
    expect(checkConformance(capped, small).failures[0]).toMatch(/not over after info.maxTurns = 3/);
  });

  it("reports duplicate legal actions, a format that does not parse back, and a parse that throws", () => {
    const duplicated: AnyGame = { ...secretSum, legalActions: (s: never, seat: 0 | 1) => [...secretSum.legalActions(s, seat), 0] };
    expect(checkConformance(duplicated, small).failures.join("\n")).toMatch(/duplicate legal actions/);
    const misformatted: AnyGame = { ...secretSum, format: (a: number) => `(${a})` };
    expect(checkConformance(misformatted, small).failures[0]).toMatch(/legal action \(0\) does not parse/);
    const fragile: AnyGame = {
      ...secretSum,
      parse: (s: never, seat: 0 | 1, text: string) => {
        if (text.length > 50_000) throw new Error("too long");
        return secretSum.parse(s, seat, text);
      },
    };
    expect(checkConformance(fragile, small).failures[0]).toMatch(/threw: too long/);
  });

  it("reports an apply that accepts illegal actions, and a move accepted out of turn", () => {
    const lax: AnyGame = {
      ...secretSum,
      apply: (state: { turn: number; moves: unknown[] }, seat: 0 | 1, n: number) => ({ ...state, turn: state.turn + 1, moves: [...state.moves, { seat, n }] }),
    };
    const failures = checkConformance(lax, small).failures.join("\n");
    expect(failures).toMatch(/apply accepted the illegal action from Player 1 out of turn/);
    expect(failures).toMatch(/apply accepted the illegal action from parse\("\[9{20}/);
    const anySeat: AnyGame = { ...secretSum, isLegal: (_s: never, _seat: 0 | 1, n: number) => Number.isInteger(n) && n >= 0 && n <= 3 };
    expect(checkConformance(anySeat, small).failures[0]).toMatch(/isLegal accepts \[0\] from Player 1, who is not to act/);
  });

  it("reports two seats to act in a game not marked simultaneous", () => {
    const unmarked: AnyGame = { ...pennies, info: { ...pennies.info, simultaneous: false } };
    expect(checkConformance(unmarked, small).failures[0]).toMatch(/two seats to act/);
  });
});

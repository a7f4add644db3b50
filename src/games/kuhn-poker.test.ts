import { describe, expect, it } from "vitest";
import { playLocal } from "./agents/local-match.js";
import { kuhnNashAgent, kuhnProfileAgent } from "./agents/kuhn-nash.js";
import { randomAgent } from "./agents/random.js";
import type { Seat } from "./game.js";
import {
  kuhnBestResponseFirst,
  kuhnBestResponseSecond,
  kuhnExploitability,
  kuhnInfoSetPoints,
  kuhnInfoSets,
  kuhnNashProfile,
  kuhnUniformProfile,
  kuhnValue,
} from "./kuhn-exact.js";
import type { KuhnCard, KuhnInfoState, KuhnMove, KuhnState } from "./kuhn-poker.js";
import { kuhnPoker } from "./kuhn-poker.js";
import { createRng } from "../core/rng.js";

const five = kuhnPoker({ rounds: 5 });
const one = kuhnPoker({ rounds: 1 });

/** A state with chosen cards for the current round (the deal is otherwise seeded). */
function withCards(state: KuhnState, cards: readonly [KuhnCard, KuhnCard]): KuhnState {
  return { ...state, dealt: [...state.dealt.slice(0, -1), cards] };
}

function playMoves(game: typeof five, state: KuhnState, moves: readonly KuhnMove[]): KuhnState {
  let s = state;
  for (const m of moves) s = game.apply(s, game.toAct(s)[0] as Seat, m);
  return s;
}

describe("KuhnPoker rules", () => {
  it("has the published ids and metadata", () => {
    expect(five.info.id).toBe("KuhnPoker-v1");
    expect(one.info.id).toBe("KuhnPoker-v1-1round");
    expect([five.info.minReturn, five.info.maxReturn, five.info.maxTurns]).toEqual([-1, 1, 15]);
    expect([one.info.minReturn, one.info.maxReturn, one.info.maxTurns]).toEqual([-2, 2, 3]);
    expect(() => kuhnPoker({ rounds: 0 })).toThrow(/rounds must be an integer/);
  });

  it("Player 1 opens round 1 and the opener alternates", () => {
    const s = five.init(3);
    expect(five.toAct(s)).toEqual([1]);
    expect(five.legalActions(s, 1)).toEqual(["check", "bet"]);
    expect(five.legalActions(s, 0)).toEqual([]);
    const r2 = playMoves(five, s, ["check", "check"]);
    expect(r2.round).toBe(1);
    expect(five.toAct(r2)).toEqual([0]);
  });

  it("follows the betting tree and settles pots", () => {
    const base = withCards(one.init(1), ["K", "J"]); // Player 0 holds K; Player 1 (first) holds J.
    const cases: [KuhnMove[], [number, number]][] = [
      [["check", "check"], [1, -1]],
      [["bet", "fold"], [-1, 1]],
      [["bet", "call"], [2, -2]],
      [["check", "bet", "fold"], [1, -1]],
      [["check", "bet", "call"], [2, -2]],
    ];
    for (const [moves, returns] of cases) {
      const end = playMoves(one, base, moves);
      expect(one.isTerminal(end), moves.join(",")).toBe(true);
      expect(one.returns(end), moves.join(",")).toEqual(returns);
    }
    expect(one.legalActions(playMoves(one, base, ["bet"]), 0)).toEqual(["fold", "call"]);
    expect(one.legalActions(playMoves(one, base, ["check", "bet"]), 1)).toEqual(["fold", "call"]);
    expect(() => one.apply(base, 1, "call")).toThrow(/cannot play call/);
  });

  it("5 rounds: more chips wins, equal chips draw, whoever won the last round", () => {
    let s = five.init(11);
    // Rounds 1-4: Player 0 wins 2 + 2 chips, then loses 1 + 1; round 5 Player 1 wins 1: net +1 for Player 0.
    const plan: [readonly [KuhnCard, KuhnCard], KuhnMove[]][] = [
      [["K", "J"], ["bet", "call"]],
      [["K", "Q"], ["bet", "call"]],
      [["J", "K"], ["check", "check"]],
      [["J", "Q"], ["check", "check"]],
      [["Q", "K"], ["check", "check"]],
    ];
    for (const [cards, moves] of plan) s = playMoves(five, withCards(s, cards), moves);
    expect(five.isTerminal(s)).toBe(true);
    expect(s.chips).toEqual([1, -1]);
    expect(s.results.at(-1)?.winner).toBe(1); // the reference env would give Player 1 the game
    expect(five.returns(s)).toEqual([1, -1]);
    // Equal chips: a draw.
    let d = five.init(12);
    // Chips for Player 0 after each round: +1, 0, +2, +1, 0 (Player 1 won the last round).
    const even: [readonly [KuhnCard, KuhnCard], KuhnMove[]][] = [
      [["K", "J"], ["check", "check"]],
      [["J", "K"], ["check", "check"]],
      [["K", "J"], ["bet", "call"]],
      [["J", "K"], ["check", "check"]],
      [["J", "K"], ["check", "check"]],
    ];
    for (const [cards, moves] of even) d = playMoves(five, withCards(d, cards), moves);
    expect(d.results.map((r) => r.chipsAfter[0])).toEqual([1, 0, 2, 1, 0]);
    expect(d.results.at(-1)?.winner).toBe(1);
    expect(five.returns(d)).toEqual([0, 0]);
    expect(five.observe(d, 0).view).toContain("It is a draw.");
  });

  it("deals are seeded and without replacement", () => {
    expect(five.init(5)).toEqual(five.init(5));
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const [a, b] = one.init(seed).dealt[0] as [KuhnCard, KuhnCard];
      expect(a).not.toBe(b);
      seen.add(a + b);
    }
    expect(seen.size).toBe(6);
  });

  it("each round draws a fresh, uniform deal", () => {
    // 600 five-round games: every round's 6 deals appear about 100 times each, and consecutive
    // rounds repeat the same deal about 1/6 of the time (a stale RNG would repeat it always).
    const perRound = Array.from({ length: 5 }, () => new Map<string, number>());
    let repeats = 0;
    for (let seed = 0; seed < 600; seed++) {
      let s = five.init(seed);
      while (!five.isTerminal(s)) s = five.apply(s, five.toAct(s)[0] as Seat, "check");
      expect(s.dealt).toHaveLength(5);
      s.dealt.forEach((d, r) => perRound[r]?.set(d.join(""), (perRound[r]?.get(d.join("")) ?? 0) + 1));
      for (let r = 1; r < 5; r++) if (s.dealt[r]?.join("") === s.dealt[r - 1]?.join("")) repeats++;
    }
    for (const counts of perRound) {
      expect(counts.size).toBe(6);
      // Binomial(600, 1/6): sd ≈ 9.1, so 100 ± 40 is over 4 sd.
      for (const n of counts.values()) expect(Math.abs(n - 100)).toBeLessThan(40);
    }
    // 2,400 consecutive pairs, repeat rate 1/6: 400 ± 4 sd (≈ 73).
    expect(Math.abs(repeats - 400)).toBeLessThan(75);
  });
});

describe("KuhnPoker observations", () => {
  it("shows own card, pot, betting and legal actions, never the opponent's card before a showdown", () => {
    const s = playMoves(five, withCards(five.init(2), ["Q", "K"]), ["bet"]);
    const obs = five.observe(s, 0);
    expect(obs.view).toContain("Your card: Q");
    expect(obs.view).toContain("Pot: 3 chips");
    expect(obs.view).toContain("Player 1 [bet]");
    expect(obs.legal).toEqual(["[fold]", "[call]"]);
    const info = obs.infoState as KuhnInfoState;
    expect(info.infoSet).toBe("Q:bet");
    expect(info.card).toBe("Q");
    const text = JSON.stringify(obs);
    for (const secret of five.privateInfo(s, 1)) expect(text).not.toContain(secret);
    expect(five.privateInfo(s, 1)).toContain("Your card: K");
    // Beyond the rules and the rank reminder, K appears nowhere in Player 0's observation.
    expect(JSON.stringify({ ...obs, log: obs.log.slice(1) }).replaceAll("J < Q < K", "")).not.toMatch(/\bK\b/);
  });

  it("reveals both cards after a showdown, nothing after a fold", () => {
    const shown = playMoves(five, withCards(five.init(2), ["Q", "K"]), ["bet", "call"]);
    const log0 = five.observe(shown, 0).log.map((m) => m.text).join("\n");
    expect(log0).toContain("Showdown: Player 0 shows Q, Player 1 shows K. Player 1 wins the pot of 4 chips.");
    expect(log0).toContain("Chips: Player 0 -2, Player 1 +2");
    const folded = playMoves(one, withCards(one.init(2), ["Q", "K"]), ["bet", "fold"]);
    const obs = one.observe(folded, 1);
    expect(obs.log.map((m) => m.text).join("\n")).toContain("no cards are shown");
    expect(JSON.stringify({ ...obs, log: obs.log.slice(1) })).not.toMatch(/\bQ\b/);
    expect(one.privateInfo(folded, 0)).toContain("Your card: Q");
    expect(obs.view).toContain("Game over: you win 1 chip.");
    expect(one.observe(folded, 0).view).toContain("Game over: you lose 1 chip.");
  });
});

describe("KuhnPoker parser", () => {
  const s = five.init(4); // Player 1 to open: [check] or [bet]
  const parse = (text: string) => five.parse(s, 1, text);

  it("reads the first match of the reference pattern, case-insensitively, no spaces inside", () => {
    expect(parse("[bet]")).toMatchObject({ ok: true, action: "bet" });
    expect(parse("I think [CHECK] is best, not [bet]")).toMatchObject({ ok: true, action: "check" });
    expect(parse("I think [ CHECK ] is best, not [bet]")).toMatchObject({ ok: true, action: "bet" });
    expect(parse("[Bet]")).toMatchObject({ ok: true, action: "bet", match: { text: "[Bet]" } });
  });

  it("rejects missing and currently illegal actions with a reason", () => {
    const bad = [parse("bet"), parse("[raise]"), parse(""), parse("[call]"), five.parse(s, 0, "[bet]")];
    expect(bad.map((r) => r.ok)).toEqual([false, false, false, false, false]);
    const call = bad[3];
    if (call && !call.ok) expect(call.reason).toContain("[check], [bet]");
  });

  it("never throws on adversarial and huge inputs", () => {
    const inputs = ["[".repeat(100_000), "a".repeat(100_000) + "[fold]", "[[bet]]", "[ƀet]", "💰 [check] 💰", "[bet][check]", "\u0000"];
    const oks = inputs.map((t) => parse(t).ok);
    expect(oks).toEqual([false, false, true, false, true, true, false]);
    const spaces = " ".repeat(100_000);
    const start = performance.now();
    const bombs = [`[${spaces}bet${spaces}x`, `[${spaces}bet${spaces}]`, "[ ".repeat(50_000), "[bet ".repeat(20_000)].map(parse);
    expect(performance.now() - start).toBeLessThan(5000);
    expect(bombs.map((r) => r.ok)).toEqual([false, false, false, false]);
  });
});

describe("Kuhn 1-round exact analysis", () => {
  it("has 12 information sets", () => {
    expect(new Set(kuhnInfoSets.map((s) => s.key)).size).toBe(12);
  });

  it("reaches each information set with an observation that does not depend on the opponent's card", () => {
    const points = kuhnInfoSetPoints();
    expect(points.map((p) => p.key)).toEqual(kuhnInfoSets.map((s) => s.key));
    for (const p of points) {
      expect((p.observation.infoState as KuhnInfoState).infoSet).toBe(p.key);
      expect(p.observation.legal).toContain(`[${p.aggressive}]`);
      // The same decision with the opponent holding the other possible card looks identical.
      const [mine, theirs] = [p.state.dealt[0]?.[p.seat], p.state.dealt[0]?.[p.seat === 0 ? 1 : 0]];
      const alt = ["J", "Q", "K"].find((c) => c !== mine && c !== theirs) as KuhnCard;
      const cards: [KuhnCard, KuhnCard] = p.seat === 0 ? [mine as KuhnCard, alt] : [alt, mine as KuhnCard];
      expect(one.observe({ ...p.state, dealt: [cards] }, p.seat)).toEqual(p.observation);
    }
    expect(points.filter((p) => p.seat === 1).map((p) => p.position)).toEqual(Array(6).fill("first"));
  });

  it("every closed-form Nash profile gives −1/18 to the first to act and is unexploitable", () => {
    for (const alpha of [0, 1 / 12, 1 / 6, 1 / 3]) {
      const nash = kuhnNashProfile(alpha);
      expect(Math.abs(kuhnValue(nash) - -1 / 18)).toBeLessThan(1e-12);
      expect(Math.abs(kuhnBestResponseFirst(nash) - -1 / 18)).toBeLessThan(1e-12);
      expect(Math.abs(kuhnBestResponseSecond(nash) - 1 / 18)).toBeLessThan(1e-12);
      expect(Math.abs(kuhnExploitability(nash))).toBeLessThan(1e-9);
    }
    expect(() => kuhnNashProfile(0.5)).toThrow(/α in \[0, 1\/3\]/);
  });

  it("the uniform profile has exploitability 11/24 under (BR_first + BR_second) / 2", () => {
    const uniform = kuhnUniformProfile();
    expect(Math.abs(kuhnExploitability(uniform) - 11 / 24)).toBeLessThan(1e-12);
    // Uniform against itself, showdowns average out over deals; folds leave the first to act
    // +1/4 (bet, fold) − 1/8 (check, bet, fold) = +1/8.
    expect(Math.abs(kuhnValue(uniform) - 1 / 8)).toBeLessThan(1e-12);
  });

  it("a best responder gains against a non-equilibrium profile, and exploitability is positive", () => {
    const alwaysBet = { ...kuhnNashProfile(0), "J:": 1, "Q:": 1 };
    expect(kuhnExploitability(alwaysBet)).toBeGreaterThan(0.05);
    expect(() => kuhnValue({})).toThrow(/information set "J:"/);
  });

  it("simulated Nash self-play matches the exact value within sampling error", async () => {
    const rng = createRng("kuhn-nash-sim");
    const n = 4000;
    let firstTotal = 0;
    const nash = kuhnNashAgent();
    for (let g = 0; g < n; g++) firstTotal += (await playLocal(one, [nash, nash], g, rng))[1];
    // Per-game chips have sd < 2, so 4σ over 4000 games is < 0.13.
    expect(Math.abs(firstTotal / n - -1 / 18)).toBeLessThan(0.13);
  });

  it("Nash beats random on average in the 1-round game, from both seats", async () => {
    const rng = createRng("nash-vs-random");
    let total = 0;
    const n = 2000;
    for (let g = 0; g < n; g++) {
      const seat = g % 2;
      const agents = seat === 0 ? ([kuhnNashAgent(), randomAgent()] as const) : ([randomAgent(), kuhnNashAgent()] as const);
      total += (await playLocal(one, agents, g, rng))[seat] as number;
    }
    // Exact: Nash earns (−1/18 + 1/18)/2 plus random's losses; it must be clearly positive.
    expect(total / n).toBeGreaterThan(0.1);
    expect(kuhnProfileAgent(kuhnUniformProfile(), "uniform").name).toBe("uniform");
  });

  it("Nash wins more 5-round games against random than it loses", async () => {
    // Measured over 1,000 games: 51% wins, 14% draws, 34% losses. Over 400 games the win-minus-loss
    // count has mean ≈ 68 and sd ≈ 18.
    const rng = createRng("nash-vs-random-5");
    let margin = 0;
    for (let g = 0; g < 400; g++) {
      const seat = g % 2;
      const agents = seat === 0 ? ([kuhnNashAgent(), randomAgent()] as const) : ([randomAgent(), kuhnNashAgent()] as const);
      margin += Math.sign((await playLocal(five, agents, g, rng))[seat] as number);
    }
    expect(margin).toBeGreaterThan(20);
  });
});

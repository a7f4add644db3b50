import { describe, expect, it } from "vitest";
import { playLocal } from "./agents/local-match.js";
import { bestProposal, negotiationHeuristicAgent } from "./agents/negotiation-heuristic.js";
import { randomAgent } from "./agents/random.js";
import type { Seat } from "./game.js";
import { createRng } from "../core/rng.js";
import type { NegotiationAction, NegotiationInfoState, NegotiationState } from "./simple-negotiation.js";
import { MESSAGE_CAP, simpleNegotiation as game } from "./simple-negotiation.js";

/** Applies replies in turn, each of which must parse and be legal. */
function play(replies: readonly string[], from: NegotiationState = game.init(1)): NegotiationState {
  let s = from;
  for (const text of replies) {
    const seat = game.toAct(s)[0] as Seat;
    const r = game.parse(s, seat, text);
    if (!r.ok) throw new Error(`${text}: ${r.reason}`);
    s = game.apply(s, seat, r.action);
  }
  return s;
}

function reason(state: NegotiationState, seat: Seat, text: string): string {
  const r = game.parse(state, seat, text);
  return r.ok ? "ok" : r.reason;
}

describe("SimpleNegotiation-v1 rules", () => {
  it("starts at 10 of each with private values worth 200 to both", () => {
    const s = game.init(0);
    expect(game.toAct(s)).toEqual([0]);
    const i0 = game.observe(s, 0).infoState as NegotiationInfoState;
    const i1 = game.observe(s, 1).infoState as NegotiationInfoState;
    expect([i0.values, i1.values]).toEqual([{ Wood: 5, Gold: 15 }, { Wood: 15, Gold: 5 }]);
    expect([i0.startValue, i1.startValue, i0.value]).toEqual([200, 200, 200]);
    expect(game.info.maxTurns).toBe(10);
  });

  it("an accepted offer moves the goods and the larger gain wins", () => {
    // Player 0 gives 2 Wood (−10 to it) for 3 Gold (+45): +35. Player 1: +30 − 15 = +15.
    const s = play(["Fair deal? [Offer: 2 Wood -> 3 Gold]", "Sure [accept]", ...Array(8).fill("ok")]);
    expect(s.inventories).toEqual([{ Wood: 8, Gold: 13 }, { Wood: 12, Gold: 7 }]);
    expect(game.isTerminal(s)).toBe(true);
    expect(game.returns(s)).toEqual([1, -1]);
    expect(game.observe(s, 1).view).toContain("Player 0's changed by +35");
    expect(game.observe(s, 1).view).toContain("You lose.");
    expect(game.observe(s, 0).log.map((m) => m.text)).toContain("Trade done: Player 0 gave 2 Wood to Player 1 for 3 Gold.");
  });

  it("no trade is a draw after exactly 10 actions", () => {
    const s = play(Array(10).fill("hello"));
    expect(game.isTerminal(s)).toBe(true);
    expect(game.returns(s)).toEqual([0, 0]);
    expect(game.toAct(s)).toEqual([]);
  });

  it("equal gains draw", () => {
    // 1 Wood for 1 Gold: Player 0 +10, Player 1 +10.
    const s = play(["[Offer: 1 Wood -> 1 Gold]", "[Accept]", ...Array(8).fill(".")]);
    expect(game.returns(s)).toEqual([0, 0]);
  });

  it("an offer stays open through messages, and a counter denies it", () => {
    const s = play(["[Offer: 1 Wood -> 2 Gold]", "Let me think."]);
    expect(s.offer?.from).toBe(0);
    const t = play(["[Offer: 1 Gold -> 1 Wood]"], s); // Player 0 replaces its own offer
    expect(t.offer).toEqual({ from: 0, give: { Wood: 0, Gold: 1 }, receive: { Wood: 1, Gold: 0 } });
    const u = play(["Counter: [Offer: 5 Gold -> 1 Wood]"], t);
    expect(u.offer?.from).toBe(1);
    expect(game.observe(u, 0).log.map((m) => m.text).join("\n")).toContain("counters");
    const d = play(["[Deny]"], u);
    expect(d.offer).toBeNull();
    // With no offer open, the reference ignores [Accept]: it is plain text.
    expect(reason(d, 1, "[Accept]")).toBe("ok");
    expect(reason(d, 0, "[Deny]")).toMatch(/It is Player 1's turn/);
  });

  it("accept and deny answer an offer addressed to you; otherwise the proposer's [Accept] is invalid and the rest is text", () => {
    const s = game.init(0);
    const kind = (state: NegotiationState, seat: Seat, text: string) => {
      const r = game.parse(state, seat, text);
      return r.ok ? r.action.kind : r.reason;
    };
    expect(kind(s, 0, "[Accept]")).toBe("message");
    expect(kind(s, 0, "[Deny]")).toBe("message");
    const own = play(["[Offer: 1 Wood -> 1 Gold]", "hmm"]);
    expect(kind(own, 0, "[Accept]")).toMatch(/cannot accept your own offer/);
    expect(kind(own, 0, "[Deny]")).toBe("message");
    expect(game.isLegal(s, 0, { kind: "accept", text: "[Accept]" })).toBe(false);
  });

  it("one reply can answer the open offer and make a new one, in the reference's order", () => {
    const s = play(["[Offer: 2 Wood -> 3 Gold]"]);
    const both = game.parse(s, 1, "[Accept] and now [Offer: 4 Wood -> 1 Gold]");
    expect(both.ok && both.action).toMatchObject({ kind: "accept", offer: { give: { Wood: 4, Gold: 0 }, receive: { Wood: 0, Gold: 1 } } });
    const after = play(["[Accept] and now [Offer: 4 Wood -> 1 Gold]"], s);
    expect(after.inventories).toEqual([{ Wood: 8, Gold: 13 }, { Wood: 12, Gold: 7 }]);
    expect(after.offer).toEqual({ from: 1, give: { Wood: 4, Gold: 0 }, receive: { Wood: 0, Gold: 1 } });
    // The new offer is checked against the inventory after the trade: 12 Wood is payable only then.
    expect(reason(s, 1, "[Accept] [Offer: 12 Wood -> 1 Gold]")).toBe("ok");
    expect(reason(s, 1, "[Deny] [Offer: 12 Wood -> 1 Gold]")).toMatch(/cannot offer 12 Wood/);
    // [Accept] wins over [Deny] wherever they stand.
    expect(game.parse(s, 1, "[Deny]... no, [Accept]").ok && (game.parse(s, 1, "[Deny]... no, [Accept]") as { action: NegotiationAction }).action.kind).toBe("accept");
    const denied = play(["[Deny] [Offer: 1 Wood -> 1 Gold]"], s);
    expect(denied.offer?.from).toBe(1);
    expect(game.format({ kind: "deny", text: "x", offer: { give: { Wood: 1, Gold: 0 }, receive: { Wood: 0, Gold: 1 } } })).toBe("[Deny] [Offer: 1 Wood -> 1 Gold]");
  });

  it("you cannot offer what you do not have, nor accept what you cannot pay", () => {
    const s = game.init(0);
    expect(reason(s, 0, "[Offer: 11 Wood -> 1 Gold]")).toMatch(/cannot offer 11 Wood: you have 10 Wood, 10 Gold/);
    // Player 0 asks 11 Gold: Player 1 holds 10 and cannot accept; it may deny.
    const big = play(["[Offer: 1 Wood -> 11 Gold]"]);
    expect(reason(big, 1, "[Accept]")).toMatch(/cannot pay 11 Gold/);
    expect(game.legalActions(big, 1).map(game.format)).not.toContain("[Accept]");
    expect(game.legalActions(big, 1).map(game.format)).toContain("[Deny]");
  });

  it("a trade the proposer can no longer pay is cancelled without penalty", () => {
    const s = play(["[Offer: 10 Wood -> 1 Gold]"]);
    // Not reachable by play (nothing trades between an offer and its answer); forced here.
    const broke: NegotiationState = { ...s, inventories: [{ Wood: 0, Gold: 10 }, s.inventories[1]] };
    const t = game.apply(broke, 1, { kind: "accept", text: "[Accept]" });
    expect(t.inventories).toEqual(broke.inventories);
    expect(t.offer).toBeNull();
    expect(game.observe(t, 1).log.map((m) => m.text).join("\n")).toContain("the trade is cancelled (no penalty)");
  });

  it("an offer still open at the end lapses", () => {
    const s = play([...Array(9).fill("."), "[Offer: 1 Gold -> 1 Wood]"]);
    expect(game.isTerminal(s)).toBe(true);
    expect(s.offer).toBeNull();
  });
});

describe("SimpleNegotiation-v1 legal set and observations", () => {
  it("lists [Accept]/[Deny] when an offer is open to you, plus every payable single-resource offer", () => {
    const s = game.init(0);
    const legal = game.legalActions(s, 0).map(game.format);
    expect(legal).toHaveLength(200);
    expect(legal).toContain("[Offer: 10 Wood -> 10 Gold]");
    expect(legal).toContain("[Offer: 1 Gold -> 7 Wood]");
    expect(legal).not.toContain("[Accept]");
    expect(game.legalActions(s, 1)).toEqual([]);
    const open = play(["[Offer: 2 Wood -> 3 Gold]"]);
    const answer = game.legalActions(open, 1).map(game.format);
    expect(answer.slice(0, 2)).toEqual(["[Accept]", "[Deny]"]);
    expect(answer).toHaveLength(202);
    // After trading away Wood, only payable amounts are offered.
    const poorer = play(["[Offer: 8 Wood -> 1 Gold]", "[Accept]"]);
    const mine = game.legalActions(poorer, 0).map(game.format);
    expect(mine).toContain("[Offer: 2 Wood -> 10 Gold]");
    expect(mine).not.toContain("[Offer: 3 Wood -> 1 Gold]");
    expect(mine).toHaveLength(20 + 100);
  });

  it("delivers free text to the opponent and never reveals the opponent's values", () => {
    const s = play(["I really want Gold. [Offer: 3 Wood -> 2 Gold] Deal?"]);
    const obs1 = game.observe(s, 1);
    const delivered = obs1.log.find((m) => m.kind === "action");
    expect(delivered).toEqual({ kind: "action", seat: 0, text: "I really want Gold. [Offer: 3 Wood -> 2 Gold] Deal?" });
    expect(obs1.view).toContain("Open offer from Player 0: you would receive 3 Wood and give 2 Gold.");
    expect(obs1.view).toContain("values per unit: Wood 15, Gold 5");
    const text = JSON.stringify(obs1);
    for (const secret of game.privateInfo(s, 0)) expect(text).not.toContain(secret);
    expect(text).not.toContain("Gold 15");
    expect(obs1.log[0]?.kind).toBe("rules");
    expect(obs1.log[0]?.text).toContain("[Offer: 3 Wood -> 2 Gold]");
    expect(obs1.log.at(-1)?.kind).toBe("state");
  });
});

describe("SimpleNegotiation-v1 parser", () => {
  const s = play(["[Offer: 2 Wood -> 3 Gold]"]); // Player 1 to answer
  const parse = (text: string) => game.parse(s, 1, text);
  const action = (text: string): NegotiationAction => {
    const r = parse(text);
    if (!r.ok) throw new Error(r.reason);
    return r.action;
  };

  it("reads the reference's offer grammar: spellings it accepts are accepted", () => {
    expect(action("[accept]").kind).toBe("accept");
    expect(action("[DENY]").kind).toBe("deny");
    expect(game.format(action("[offer:3 wood->2 gold]"))).toBe("[Offer: 3 Wood -> 2 Gold]");
    expect(game.format(action("[Offer: 3 Wood, 2 Gold -> 5 Gold]"))).toBe("[Offer: 3 Wood, 2 Gold -> 5 Gold]");
    expect(game.format(action("[Offer: 1 Wood and 1 Wood, 1 Gold -> 2 Golds]"))).toBe("[Offer: 2 Wood, 1 Gold -> 2 Gold]");
    expect(game.format(action("[Offer: I give 3 Wood -> 2 Gold]"))).toBe("[Offer: 3 Wood -> 2 Gold]");
    expect(game.format(action("[Offer: i offer 3 WOODS -> 2 gold...]"))).toBe("[Offer: 3 Wood -> 2 Gold]");
    expect(game.format(action("[Offer: 3 Wood -> 2 Gold!?]"))).toBe("[Offer: 3 Wood -> 2 Gold]");
    expect(game.format(action("[Offer:\n  03 Wood ,, -> 2 Gold ]"))).toBe("[Offer: 3 Wood -> 2 Gold]");
    expect(game.format(action("[Offer: 3 Wood -> 2 Wood]"))).toBe("[Offer: 3 Wood -> 2 Wood]");
    expect(game.format(action("[Offer: ٣ Wood -> 2 Gold]"))).toBe("[Offer: 3 Wood -> 2 Gold]");
    // The first offer counts.
    expect(game.format(action("[Offer: 1 Wood -> 1 Gold] or [Offer: 2 Wood -> 2 Gold]"))).toBe("[Offer: 1 Wood -> 1 Gold]");
    // An opener with empty content does not match; the search goes on.
    expect(game.format(action("[Offer:] [Offer: 1 Wood -> 1 Gold]"))).toBe("[Offer: 1 Wood -> 1 Gold]");
    const msg = action("Just chatting, no deal yet.");
    expect(msg).toEqual({ kind: "message", text: "Just chatting, no deal yet." });
    expect(game.isLegal(s, 1, msg)).toBe(true);
    // Spellings outside the reference's patterns are plain text: a message-only move.
    for (const text of ["[ Accept ]", "[Accepted]", "[Offer 3 Wood -> 2 Gold]", "[ Offer: 3 Wood -> 2 Gold]", "", "[deny it]"]) {
      expect(action(text).kind, text).toBe("message");
    }
  });

  it("rejects what the reference rejects: malformed offers and offers the mover cannot pay", () => {
    const cases: [string, RegExp][] = [
      ["[Offer: 3 Wood]", /Malformed offer/],
      ["[Offer: -> 2 Gold]", /Malformed offer/],
      ["[Offer: 0 Wood -> 2 Gold]", /Malformed offer/],
      ["[Offer: 3 Silver -> 2 Gold]", /Malformed offer/],
      ["[Offer: 3Wood -> 2 Gold]", /Malformed offer/],
      ["[Offer: 3 Wood + 1 Gold -> 2 Gold]", /Malformed offer/],
      ["[Offer: 3 Wood & 1 Gold -> 2 Gold]", /Malformed offer/],
      ["[Offer: 3 Wood → 2 Gold]", /Malformed offer/],
      ["[Offer: 3 Wood -> 2 Gold -> 1 Wood]", /Malformed offer/],
      ["[Offer: 3 Wood. -> 2 Gold]", /Malformed offer/],
      ["[Offer: three Wood -> 2 Gold]", /Malformed offer/],
      ["[Offer: ]", /Malformed offer/],
      ["[Offer: 999999999999999999999 Wood -> 3 Gold]", /cannot offer/],
      ["[Offer: 11 Gold -> 1 Wood]", /cannot offer 11 Gold/],
    ];
    for (const [text, expected] of cases) expect(reason(s, 1, text), text).toMatch(expected);
    // Brackets inside an offer end it: "[Offer: [3 Wood] -> 2 Gold]" holds no offer match at all.
    expect(action("[Offer: [3 Wood] -> 2 Gold]").kind).toBe("message");
    expect(action("[Offer: 3 Wood -> 2 Gold").kind).toBe("message");
  });

  it("never throws on adversarial and huge inputs, and caps delivered text", () => {
    const huge = "x".repeat(100_000);
    const inputs = [
      huge,
      huge + "[Accept]",
      "[".repeat(100_000),
      "[Offer".repeat(20_000),
      "🤝 [Offer: 2 Wood -> 1 Gold] 🤝",
      "\u0000[Deny]",
      "[[[[Accept]]]]",
      "\uD800",
    ];
    const results = inputs.map(parse);
    // "[[[[Accept]]]]" holds the substring "[Accept]", which is all the reference looks for.
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true, true]);
    expect(results[6]?.ok && results[6].action.kind).toBe("accept");
    const first = results[0];
    if (first?.ok) expect(first.action.text).toHaveLength(MESSAGE_CAP + 1);
    const second = results[1];
    if (second?.ok) {
      expect(second.action.kind).toBe("accept");
      expect(second.action.text.endsWith("… [Accept]")).toBe(true);
    }
    // Whitespace bombs inside tokens stay linear (a backtracking regex here once took minutes).
    const spaces = " ".repeat(100_000);
    const start = performance.now();
    const bombs = [
      `[Offer: ${spaces}x]`,
      `[Offer:${spaces}1 Wood${spaces}->${spaces}2 Gold${spaces}]`,
      `[Offer: 1${spaces}Wood -> 2 Gold]`,
      `[Offer: 1 Wood ${spaces}, ${spaces} -> 2 Gold]`,
      `[${spaces}Accept${spaces}]`,
      `[Offer: ${"1 Wood, ".repeat(10_000)} -> 1 Gold]`,
    ].map(parse);
    expect(performance.now() - start).toBeLessThan(5000);
    // "[Offer: <spaces>x]" is malformed; the whitespace-padded offers are read once whitespace is
    // collapsed; "[ <spaces>Accept<spaces> ]" is plain text; a 10,000-item give side is 10,000 Wood.
    expect(bombs.map((r) => r.ok)).toEqual([false, true, true, true, true, false]);
    // format(parse(x)) is stable: a capped message parses back to itself.
    if (first?.ok) expect(game.format(action(game.format(first.action)))).toBe(game.format(first.action));
  });
});

describe("negotiation heuristic agent", () => {
  it("proposes giving what it values low for more of what it values high", () => {
    const info = game.observe(game.init(0), 0).infoState as NegotiationInfoState;
    const p = bestProposal(info);
    // Under the mirror guess: give 4 Wood (−20) for 10 Gold (+150); the opponent gains 60 − 50 = 10.
    expect(p).toEqual({ give: { Wood: 4, Gold: 0 }, receive: { Wood: 0, Gold: 10 } });
  });

  it("accepts only trades that raise its value more than the opponent's", async () => {
    const agent = negotiationHeuristicAgent();
    const rng = createRng(0);
    const good = play(["[Offer: 3 Gold -> 1 Wood]"]); // Player 1 gets 3 Gold (+15), gives 1 Wood (−15): 0
    expect((await agent.act(game.observe(good, 1), rng)).action).not.toContain("[Accept]");
    const better = play(["[Offer: 1 Wood -> 3 Gold]"]); // Player 1: +15 − 15 = 0 → not accepted either
    expect((await agent.act(game.observe(better, 1), rng)).action).not.toContain("[Accept]");
    const great = play(["[Offer: 3 Wood -> 1 Gold]"]); // Player 1: +45 − 5 = +40; Player 0 (mirror): +15 − 15 = 0
    expect((await agent.act(game.observe(great, 1), rng)).action).toContain("[Accept]");
  });

  it("beats random more than half the time over 200 games, from both seats", async () => {
    const rng = createRng("heuristic-vs-random");
    let wins = 0;
    let losses = 0;
    for (let g = 0; g < 200; g++) {
      const seat = g % 2;
      const agents = seat === 0
        ? ([negotiationHeuristicAgent(), randomAgent()] as const)
        : ([randomAgent(), negotiationHeuristicAgent()] as const);
      const r = (await playLocal(game, agents, g, rng))[seat] as number;
      if (r > 0) wins++;
      if (r < 0) losses++;
    }
    expect(wins).toBeGreaterThan(100);
    expect(losses).toBeLessThan(20);
  });
});

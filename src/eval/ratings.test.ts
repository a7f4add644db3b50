import { describe, expect, it } from "vitest";
import { bradleyTerry, ELO_PER_NAT, solve } from "./ratings.js";

describe("bradleyTerry", () => {
  it("recovers the closed form for two players: Elo gap 400·log10(w/l), Hessian standard deviation", () => {
    const [a, b] = bradleyTerry(2, [{ i: 0, j: 1, wins: 75, draws: 0, losses: 25 }], 100);
    expect(a!.elo - b!.elo).toBeCloseTo(400 * Math.log10(3), 2);
    expect(a!.elo + b!.elo).toBeCloseTo(0, 9);
    // Var(θ0 − θ1) = 1 / (n p (1 − p)); each centred rating carries half the gap.
    const sdGap = Math.sqrt(1 / (100 * 0.75 * 0.25));
    expect(a!.sd).toBeCloseTo((sdGap / 2) * ELO_PER_NAT, 3);
    expect(a!.high - a!.low).toBeCloseTo(2 * 1.959963984540054 * a!.sd, 9);
  });

  it("counts draws as half wins and orders a transitive round robin", () => {
    const drawn = bradleyTerry(2, [{ i: 0, j: 1, wins: 10, draws: 20, losses: 10 }]);
    expect(drawn[0]!.elo).toBeCloseTo(0, 9);
    const r = bradleyTerry(3, [
      { i: 0, j: 1, wins: 30, draws: 0, losses: 10 },
      { i: 1, j: 2, wins: 30, draws: 0, losses: 10 },
      { i: 0, j: 2, wins: 36, draws: 0, losses: 4 },
    ]);
    expect(r[0]!.elo).toBeGreaterThan(r[1]!.elo);
    expect(r[1]!.elo).toBeGreaterThan(r[2]!.elo);
    expect(r.reduce((s, x) => s + x.elo, 0)).toBeCloseTo(0, 6);
  });

  it("stays finite for a player that never loses (the prior), and rejects bad pairings", () => {
    const r = bradleyTerry(2, [{ i: 0, j: 1, wins: 40, draws: 0, losses: 0 }]);
    expect(Number.isFinite(r[0]!.elo)).toBe(true);
    expect(r[0]!.elo).toBeGreaterThan(300);
    expect(() => bradleyTerry(2, [{ i: 0, j: 0, wins: 1, draws: 0, losses: 0 }])).toThrow(/bad pairing 0 vs 0/);
    expect(() => bradleyTerry(1, [])).toThrow(/at least two players/);
  });

  it("solves small dense systems", () => {
    const x = solve([[0, 2], [3, 1]], [4, 5]);
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBeCloseTo(2, 12);
  });
});

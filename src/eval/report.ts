/** Plain-text tables for arena, tournament, analysis and benchmark results. */
import { kuhnInfoSets, kuhnNashProfile } from "../games/kuhn-exact.js";
import type { Interval, Outcomes } from "./stats.js";
import type { KuhnReport, OptimalMoveReport } from "./analyses.js";
import { meanReply, type ArenaReport, type SideStats } from "./arena.js";
import type { Rating } from "./ratings.js";

/** Columns padded to their widest cell; the first row is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const render = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [render(rows[0] ?? []), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(render)].join("\n") + "\n";
}

export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
export const interval = (i: Interval): string => `${pct(i.rate)} [${(100 * i.low).toFixed(1)}, ${(100 * i.high).toFixed(1)}]`;
const wdl = (o: Outcomes): string => `${o.wins}/${o.draws}/${o.losses}`;

function sideRow(label: string, name: string, s: SideStats): string[] {
  const m = meanReply(s);
  const replies = s.decisions - s.transportFailures;
  return [label, name, String(s.decisions), `${s.invalid} (${pct(replies === 0 ? 0 : s.invalid / replies)})`, m.tokens === null ? "-" : m.tokens.toFixed(1), m.chars.toFixed(1), String(s.transportFailures)];
}

export function formatArena(r: ArenaReport): string {
  const played = r.outcomes.wins + r.outcomes.draws + r.outcomes.losses;
  const lines = [
    `${r.gameId}: A = ${r.a} vs B = ${r.b}: ${played} games played, ${r.transportFailures} lost to transport failures (not counted), ${r.seconds.toFixed(1)} s`,
    "",
    formatTable([
      ["A's result", "rate [95% Wilson]"],
      ["win", interval(r.rates.win)],
      ["draw", interval(r.rates.draw)],
      ["loss", interval(r.rates.loss)],
    ]),
    `A's W/D/L as seat 0: ${wdl(r.bySeat[0])}, as seat 1: ${wdl(r.bySeat[1])}`,
    "",
    formatTable([["side", "player", "decisions", "invalid (rate)", "mean reply tokens", "mean reply chars", "transport"], sideRow("A", r.a, r.sides[0]), sideRow("B", r.b, r.sides[1])]),
  ];
  if (r.firstTransportError !== undefined) lines.push(`first transport failure: ${r.firstTransportError}\n`);
  return lines.join("\n");
}

export function formatRatings(names: readonly string[], ratings: readonly Rating[], records: readonly Outcomes[]): string {
  const order = ratings.slice().sort((a, b) => b.elo - a.elo);
  return formatTable([
    ["rank", "player", "Elo", "95% interval", "W/D/L"],
    ...order.map((r, k) => [String(k + 1), names[r.player] ?? "", r.elo.toFixed(0), `[${r.low.toFixed(0)}, ${r.high.toFixed(0)}]`, wdl(records[r.player] as Outcomes)]),
  ]);
}

export function formatOptimalRate(name: string, r: OptimalMoveReport): string {
  return `TicTacToe-v0 optimal-move rate of ${name}: ${pct(r.rate)} over ${r.positions} positions (as O ${pct(r.bySeat[0])}, as X ${pct(r.bySeat[1])}; ${r.exact ? "exact probabilities" : `one sampled reply per position, ${r.invalid} invalid`})\n`;
}

export function formatKuhn(name: string, r: KuhnReport): string {
  const nash = kuhnNashProfile(0);
  const nashHigh = kuhnNashProfile(1 / 3);
  const rows = kuhnInfoSets.map((s) => {
    const lo = Math.min(nash[s.key] as number, nashHigh[s.key] as number);
    const hi = Math.max(nash[s.key] as number, nashHigh[s.key] as number);
    return [s.key, s.position === "first" ? "first (Player 1)" : "second (Player 0)", s.aggressive, (r.profile[s.key] as number).toFixed(3), lo === hi ? lo.toFixed(3) : `${lo.toFixed(3)}–${hi.toFixed(3)}`];
  });
  return (
    `KuhnPoker-v1-1round exploitability of ${name}: ${r.exploitability.toFixed(4)} (uniform 0.4583, Nash 0; ${r.exact ? "exact probabilities" : `${r.samples} sampled replies per information set`})\n\n` +
    formatTable([["info set (card:history)", "acts", "move", "P(move)", "Nash (α ∈ [0, 1/3])"], ...rows])
  );
}

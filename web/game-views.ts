/**
 * Drawings of a game moment from the seats' typed information states (games/*.ts `infoState`):
 * boards for TicTacToe and ConnectFour, cards and pot for Kuhn poker, inventories and the open
 * offer for negotiation. `infos[s]` is null where seat s's knowledge is hidden (the play view shows
 * only the person's own seat). Other games return null and the caller shows the text view.
 */
import { h } from "./dom.js";

type Seat = 0 | 1;
type Infos = readonly [unknown, unknown];
const MARKS = ["O", "X"] as const;

function known<T>(infos: Infos): { seat: Seat; info: T } | null {
  if (infos[0] !== null && infos[0] !== undefined) return { seat: 0, info: infos[0] as T };
  if (infos[1] !== null && infos[1] !== undefined) return { seat: 1, info: infos[1] as T };
  return null;
}

function ticTacToe(infos: Infos): HTMLElement | null {
  const k = known<{ cells: (Seat | null)[] }>(infos);
  if (k === null || !Array.isArray(k.info.cells)) return null;
  return h("div", { class: "ttt", "data-testid": "board" }, ...k.info.cells.map((c, i) =>
    h("div", { class: `cell ${c === null ? "empty" : `p${c}`}`, title: `cell ${i}` }, c === null ? String(i) : MARKS[c])));
}

function connectFour(infos: Infos): HTMLElement | null {
  const k = known<{ rows: (Seat | null)[][] }>(infos);
  if (k === null || !Array.isArray(k.info.rows)) return null;
  const width = k.info.rows[0]?.length ?? 7;
  return h("div", { class: "c4", "data-testid": "board", style: `grid-template-columns: repeat(${width}, 2em)` },
    ...k.info.rows.flat().map((c) => h("div", { class: `disc ${c === null ? "empty" : `p${c}`}` })));
}

interface KuhnResult {
  round: number;
  winner: Seat;
  pot: number;
  shown: [string, string] | null;
}

interface KuhnInfo {
  card: string | null;
  results: KuhnResult[];
  history: string[];
  chips: [number, number];
  pot: number;
  round: number;
  rounds: number;
}

function kuhn(infos: Infos): HTMLElement | null {
  const k = known<KuhnInfo>(infos);
  if (k === null) return null;
  const last = k.info.results[k.info.results.length - 1];
  // Once the game is over no seat holds a card; a showdown revealed both.
  const card = (s: Seat): string => {
    const info = infos[s] as KuhnInfo | null;
    return info?.card ?? last?.shown?.[s] ?? "?";
  };
  return h("div", { class: "kuhn", "data-testid": "board" },
    h("div", { class: "cards" }, ...([0, 1] as const).map((s) => h("div", { class: `card p${s}` }, h("small", {}, `Player ${s}`), h("b", {}, card(s))))),
    h("div", {}, `Round ${k.info.round} of ${k.info.rounds} · pot ${k.info.pot} · chips P0 ${k.info.chips[0]}, P1 ${k.info.chips[1]}`),
    h("div", {}, `Betting: ${k.info.history.length === 0 ? "(none yet)" : k.info.history.join(", ")}`),
    last === undefined ? "" : h("div", {}, `Round ${last.round}: Player ${last.winner} won a pot of ${last.pot}${last.shown === null ? " (fold)" : ` (showdown ${last.shown[0]} vs ${last.shown[1]})`}`));
}

interface NegotiationInfo {
  inventory: Record<string, number>;
  opponentInventory: Record<string, number>;
  values: Record<string, number>;
  value: number;
  offer: { from: Seat; give: Record<string, number>; receive: Record<string, number> } | null;
  turnsLeft: number;
}

function bundle(b: Record<string, number>): string {
  return Object.entries(b).filter(([, n]) => n > 0).map(([r, n]) => `${n} ${r}`).join(", ") || "nothing";
}

function negotiation(infos: Infos): HTMLElement | null {
  const k = known<NegotiationInfo>(infos);
  if (k === null) return null;
  const rows = ([0, 1] as const).map((s) => {
    const own = infos[s] as NegotiationInfo | null;
    const inventory = own?.inventory ?? (s === k.seat ? k.info.inventory : k.info.opponentInventory);
    return h("tr", {}, h("td", {}, `Player ${s}`), h("td", {}, bundle(inventory)),
      h("td", {}, own === null ? "hidden" : Object.entries(own.values).map(([r, v]) => `${r} ${v}`).join(", ")),
      h("td", {}, own === null ? "hidden" : String(own.value)));
  });
  const offer = k.info.offer;
  return h("div", { class: "negotiation", "data-testid": "board" },
    h("table", {}, h("tr", {}, h("th", {}, "Seat"), h("th", {}, "Inventory"), h("th", {}, "Values per unit"), h("th", {}, "Value")), ...rows),
    h("div", { class: "offer" }, offer === null ? "No open offer" : `Open offer from Player ${offer.from}: gives ${bundle(offer.give)} for ${bundle(offer.receive)}`),
    h("div", {}, `Moves left: ${k.info.turnsLeft}`));
}

export function drawGame(gameId: string, infos: Infos): HTMLElement | null {
  try {
    if (gameId.startsWith("TicTacToe")) return ticTacToe(infos);
    if (gameId.startsWith("ConnectFour")) return connectFour(infos);
    if (gameId.startsWith("KuhnPoker")) return kuhn(infos);
    if (gameId.startsWith("SimpleNegotiation")) return negotiation(infos);
  } catch {
    // An info state of another shape: fall back to the text view.
  }
  return null;
}

/**
 * Drawings of a game moment from the seats' typed information states (games/*.ts `infoState`):
 * boards for TicTacToe and ConnectFour, cards and pot for Kuhn poker, inventories and the open
 * offer for negotiation. `infos[s]` is null where seat s's knowledge is hidden (the play view shows
 * only the person's own seat). Other games return null and the caller shows the text view.
 * With `onMove`, board cells (TicTacToe) and columns (ConnectFour) that hold a legal move are
 * buttons that send it. A finished board marks its winning line.
 */
import { h } from "./dom.js";

type Seat = 0 | 1;
type Infos = readonly [unknown, unknown];
/** The marks the games' own text uses: TicTacToe P0 O / P1 X; ConnectFour P0 X / P1 O. */
export const TTT_MARKS = ["O", "X"] as const;
export const C4_MARKS = ["X", "O"] as const;
export const C4_COLOURS = ["yellow", "red"] as const;

export interface DrawOptions {
  /** The legal moves of the person's seat (the play view), as the game formats them. */
  readonly legal?: readonly string[];
  readonly onMove?: (move: string) => void;
}

/** The legal move whose first number is `n` ("[4]" for cell 4, "[col 3]" for column 3). */
function moveFor(legal: readonly string[] | undefined, n: number): string | undefined {
  return legal?.find((m) => Number(/\d+/.exec(m)?.[0]) === n);
}

const TTT_LINES = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];

/** The cells of a completed TicTacToe line, or null. */
export function tttWinningLine(cells: readonly (Seat | null)[]): number[] | null {
  return TTT_LINES.find((l) => cells[l[0] as number] !== null && l.every((i) => cells[i] === cells[l[0] as number])) ?? null;
}

/** The [row, column] cells of a ConnectFour four in a row, or null. */
export function c4WinningLine(rows: readonly (readonly (Seat | null)[])[]): [number, number][] | null {
  const at = (r: number, c: number): Seat | null | undefined => rows[r]?.[c];
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < (rows[r]?.length ?? 0); c++) {
      const who = at(r, c);
      if (who === null || who === undefined) continue;
      for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]] as const) {
        const line: [number, number][] = [0, 1, 2, 3].map((k) => [r + k * dr, c + k * dc]);
        if (line.every(([rr, cc]) => at(rr, cc) === who)) return line;
      }
    }
  }
  return null;
}

function known<T>(infos: Infos): { seat: Seat; info: T } | null {
  if (infos[0] !== null && infos[0] !== undefined) return { seat: 0, info: infos[0] as T };
  if (infos[1] !== null && infos[1] !== undefined) return { seat: 1, info: infos[1] as T };
  return null;
}

function ticTacToe(infos: Infos, options: DrawOptions): HTMLElement | null {
  const k = known<{ cells: (Seat | null)[] }>(infos);
  if (k === null || !Array.isArray(k.info.cells)) return null;
  const win = tttWinningLine(k.info.cells) ?? [];
  return h("div", { class: "ttt", "data-testid": "board" }, ...k.info.cells.map((c, i) => {
    const move = c === null ? moveFor(options.legal, i) : undefined;
    const cls = `cell ${c === null ? "empty" : `p${c}`}${win.includes(i) ? " win" : ""}`;
    const mark = c === null ? String(i) : TTT_MARKS[c];
    return move !== undefined && options.onMove !== undefined
      ? h("button", { class: `${cls} clickable`, title: `play ${move}`, "data-move": move, "data-cell": String(i), click: () => options.onMove?.(move) }, mark)
      : h("div", { class: cls, title: `cell ${i}`, "data-cell": String(i) }, mark);
  }));
}

function connectFour(infos: Infos, options: DrawOptions): HTMLElement | null {
  const k = known<{ rows: (Seat | null)[][] }>(infos);
  if (k === null || !Array.isArray(k.info.rows)) return null;
  const width = k.info.rows[0]?.length ?? 7;
  const win = c4WinningLine(k.info.rows) ?? [];
  const heads = Array.from({ length: width }, (_, c) => {
    const move = moveFor(options.legal, c);
    return move !== undefined && options.onMove !== undefined
      ? h("button", { class: "col-head clickable", title: `drop a disc in column ${c}`, "data-move": move, "data-col": String(c), click: () => options.onMove?.(move) }, `▼${c}`)
      : h("div", { class: "col-head" }, String(c));
  });
  const discs = k.info.rows.flatMap((row, r) => row.map((c, col) => {
    const move = moveFor(options.legal, col);
    const winning = win.some(([wr, wc]) => wr === r && wc === col);
    return h("div", {
      class: `disc ${c === null ? "empty" : `p${c}`}${winning ? " win" : ""}${move !== undefined && options.onMove !== undefined ? " clickable" : ""}`,
      ...(move !== undefined && options.onMove !== undefined ? { click: () => options.onMove?.(move) } : {}),
    }, c === null ? "" : C4_MARKS[c]);
  }));
  return h("div", { class: "c4-wrap", "data-testid": "board" },
    h("div", { class: "c4", style: `grid-template-columns: repeat(${width}, 2.2em)` }, ...heads, ...discs),
    h("div", { class: "muted small" }, `Player 0: ${C4_MARKS[0]} (${C4_COLOURS[0]}) · Player 1: ${C4_MARKS[1]} (${C4_COLOURS[1]})`));
}

interface KuhnResult {
  round: number;
  moves?: string[];
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
  // The game is over once every round has a result; a round's betting then lives in its result.
  const over = k.info.results.length >= k.info.rounds;
  return h("div", { class: "kuhn", "data-testid": "board" },
    h("div", { class: "cards" }, ...([0, 1] as const).map((s) => h("div", { class: `card p${s}` }, h("small", {}, `Player ${s}`), h("b", {}, card(s))))),
    h("div", {}, over ? `Game over after ${k.info.rounds} round(s) · chips P0 ${k.info.chips[0]}, P1 ${k.info.chips[1]}`
      : `Round ${k.info.round} of ${k.info.rounds} · pot ${k.info.pot} · chips P0 ${k.info.chips[0]}, P1 ${k.info.chips[1]}`),
    over ? "" : h("div", { "data-testid": "betting" }, `Betting this round: ${k.info.history.length === 0 ? "none yet" : k.info.history.join(", ")}`),
    last === undefined ? "" : h("div", { "data-testid": "last-round" }, `Round ${last.round}${last.moves === undefined ? "" : ` (${last.moves.join(", ")})`}: Player ${last.winner} won a pot of ${last.pot}${last.shown === null ? " (fold)" : ` (showdown ${last.shown[0]} vs ${last.shown[1]})`}`));
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

export function drawGame(gameId: string, infos: Infos, options: DrawOptions = {}): HTMLElement | null {
  try {
    if (gameId.startsWith("TicTacToe")) return ticTacToe(infos, options);
    if (gameId.startsWith("ConnectFour")) return connectFour(infos, options);
    if (gameId.startsWith("KuhnPoker")) return kuhn(infos);
    if (gameId.startsWith("SimpleNegotiation")) return negotiation(infos);
  } catch {
    // An info state of another shape: fall back to the text view.
  }
  return null;
}

/** The winner in words, with the winning line where the game has one. */
export function outcomeText(gameId: string, returns: readonly [number, number], endReason: string, final: Infos, players?: readonly [string, string]): string {
  const name = (s: Seat): string => `Player ${s}${players === undefined ? "" : ` (${players[s]})`}`;
  const winner: Seat | null = returns[0] > returns[1] ? 0 : returns[1] > returns[0] ? 1 : null;
  let how = "";
  try {
    const k = known<{ cells?: (Seat | null)[]; rows?: (Seat | null)[][] }>(final);
    if (gameId.startsWith("TicTacToe") && Array.isArray(k?.info.cells)) {
      const line = tttWinningLine(k.info.cells);
      if (line !== null) how = ` with three in a row on cells ${line.join(", ")}`;
    } else if (gameId.startsWith("ConnectFour") && Array.isArray(k?.info.rows)) {
      const line = c4WinningLine(k.info.rows);
      if (line !== null) how = ` with four in a row at ${line.map(([r, c]) => `(row ${r}, col ${c})`).join(", ")}`;
    }
  } catch {
    // Another shape: no line named.
  }
  if (endReason === "invalid") {
    const loser: Seat | null = winner === null ? null : winner === 0 ? 1 : 0;
    return loser === null ? "Ended by an invalid move" : `${name(winner as Seat)} wins: ${name(loser)} made an invalid move`;
  }
  if (winner === null) return endReason === "terminal" ? "Draw" : `No winner (${endReason})`;
  return `${name(winner)} wins${how}${endReason !== "terminal" ? ` (${endReason})` : ""}`;
}

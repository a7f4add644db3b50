/**
 * The games view: every recorded game of a run (training transcripts and evaluation games) in
 * one list, filtered by game, the policy's seat, outcome and step range, and a replay player with
 * a move list, keyboard stepping (← → Home End, space for autoplay, ↑ ↓ for the previous or next
 * game in the list) and the winner with the winning line at the end.
 */
import { api, type GameEntry, type Replay } from "./api.js";
import { clear, h } from "./dom.js";
import { drawGame, outcomeText } from "./game-views.js";

const PAGE = 50;
const AUTOPLAY_MS = 900;

type Outcome = "p0" | "p1" | "draw" | "invalid";

export function outcomeOf(g: { returns: readonly [number, number]; endReason: string }): Outcome {
  if (g.endReason === "invalid") return "invalid";
  return g.returns[0] > g.returns[1] ? "p0" : g.returns[1] > g.returns[0] ? "p1" : "draw";
}

const OUTCOME_TEXT: Record<Outcome, string> = { p0: "Player 0 won", p1: "Player 1 won", draw: "draw", invalid: "invalid move" };

export interface GameFilter {
  game: string;
  /** The trained policy's seat ("" any; self-play games match both). */
  seat: "" | "0" | "1";
  outcome: "" | Outcome;
  minStep: number | null;
  maxStep: number | null;
}

export function filterGames(games: readonly GameEntry[], f: GameFilter): GameEntry[] {
  return games.filter((g) => (f.game === "" || g.gameId === f.game)
    && (f.seat === "" || (g.policySeats ?? []).includes(Number(f.seat) as 0 | 1))
    && (f.outcome === "" || outcomeOf(g) === f.outcome)
    && (f.minStep === null || (g.step !== null && g.step >= f.minStep))
    && (f.maxStep === null || (g.step !== null && g.step <= f.maxStep)));
}

function seatsText(g: GameEntry): string {
  if (g.policySeats === null) return `${g.players[0]} vs ${g.players[1]}`;
  if (g.policySeats.length === 2) return "self-play";
  return `policy as P${g.policySeats[0] ?? "?"} vs ${g.players[g.policySeats[0] === 0 ? 1 : 0]}`;
}

/** A replay with controls; `keys` handles the view's keyboard shortcuts while it is shown. */
class ReplayPlayer {
  readonly el: HTMLElement;
  private index = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly replay: Replay) {
    this.el = h("div", { class: "replay", "data-testid": "replay", "data-game": replay.gameId, "data-seed": String(replay.seed) });
    this.render();
  }

  private get last(): number {
    return this.replay.frames.length; // index == frames.length: the final state
  }

  go(index: number): void {
    this.index = Math.max(0, Math.min(this.last, index));
    if (this.index === this.last) this.stop();
    this.render();
  }

  toggle(): void {
    if (this.timer !== null) {
      this.stop();
      this.render();
      return;
    }
    if (this.index === this.last) this.index = 0;
    this.timer = setInterval(() => this.go(this.index + 1), AUTOPLAY_MS);
    this.render();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  keys(e: KeyboardEvent): boolean {
    if (e.key === "ArrowRight") this.go(this.index + 1);
    else if (e.key === "ArrowLeft") this.go(this.index - 1);
    else if (e.key === "Home") this.go(0);
    else if (e.key === "End") this.go(this.last);
    else if (e.key === " ") this.toggle();
    else return false;
    return true;
  }

  private render(): void {
    const { replay } = this;
    clear(this.el);
    const frame = replay.frames[this.index];
    const state = frame === undefined ? replay.final : frame.before;
    const controls = h("div", { class: "controls" },
      h("button", { "data-testid": "first", title: "first (Home)", click: () => this.go(0) }, "« First"),
      h("button", { "data-testid": "prev", title: "previous (←)", click: () => this.go(this.index - 1) }, "◀ Prev"),
      h("span", { "data-testid": "position", class: "num" }, `${this.index} / ${this.last}`),
      h("button", { "data-testid": "next", title: "next (→)", click: () => this.go(this.index + 1) }, "Next ▶"),
      h("button", { "data-testid": "last", title: "last (End)", click: () => this.go(this.last) }, "Last »"),
      h("button", { "data-testid": "autoplay", title: "autoplay (space)", "aria-pressed": String(this.timer !== null), click: () => this.toggle() }, this.timer === null ? "▶ Play" : "⏸ Pause"),
      h("span", { class: "muted small" }, "keys: ← → Home End, space; ↑ ↓ other games"));
    const result = outcomeText(replay.gameId, replay.returns, replay.endReason, replay.final.infos, replay.players);
    const detail = frame === undefined
      ? h("div", { class: "reply over", "data-testid": "game-over" }, h("b", { "data-testid": "winner" }, `Game over: ${result}`),
        h("div", { class: "muted" }, `returns P0 ${replay.returns[0]}, P1 ${replay.returns[1]} · ${replay.endReason}`))
      : h("div", { class: `reply ${frame.valid ? "valid" : "invalid"}`, "data-testid": "reply" },
        h("div", {}, h("b", {}, `Move ${frame.turn + 1}: Player ${frame.seat} (${replay.players[frame.seat]})`)),
        h("div", { class: "cols" },
          h("div", {}, h("small", {}, "Full reply"), h("pre", { class: "raw" }, frame.raw)),
          h("div", {}, h("small", {}, "Parsed action"), h("pre", {}, frame.parsed ?? "(none)"),
            frame.valid ? h("span", { class: "ok" }, "valid") : h("span", { class: "bad", "data-testid": "invalid" }, `invalid: ${frame.reason ?? ""}`))));
    const moves = h("ol", { class: "moves", "data-testid": "move-list" }, ...replay.frames.map((f, i) =>
      h("li", { class: `${i === this.index ? "current" : ""}${f.valid ? "" : " invalid"}`, "data-testid": "move", click: () => this.go(i) },
        `P${f.seat}: ${f.parsed ?? (f.reply.length > 24 ? `${f.reply.slice(0, 24)}…` : f.reply)}`)),
    h("li", { class: `end${this.index === this.last ? " current" : ""}`, "data-testid": "move", click: () => this.go(this.last) }, "Game over"));
    this.el.append(
      h("div", { class: "muted" }, `${replay.gameId} · seed ${replay.seed} · ${replay.players[0]} (P0) vs ${replay.players[1]} (P1)${replay.step === null ? "" : ` · step ${replay.step}`}`),
      replay.mismatch === null ? "" : h("div", { class: "bad", "data-testid": "mismatch" }, `Warning: ${replay.mismatch}`),
      controls,
      h("div", { class: "replay-body" }, h("div", { class: "state" }, drawGame(replay.gameId, state.infos) ?? h("pre", { class: "view", "data-testid": "board" }, state.views.join("\n\n"))),
        detail, h("div", { class: "move-panel" }, h("small", {}, "Moves"), moves)));
  }
}

export async function gamesView(app: HTMLElement, name: string, header: HTMLElement[]): Promise<() => void> {
  const games = await api<GameEntry[]>(`/api/runs/${encodeURIComponent(name)}/game-index`);
  const filter: GameFilter = { game: "", seat: "", outcome: "", minStep: null, maxStep: null };
  const list = h("div", { class: "game-list table-wrap" });
  const count = h("span", { class: "muted", "data-testid": "game-count" });
  const playerBox = h("div", {});
  let shown: GameEntry[] = [];
  let limit = PAGE;
  let current: GameEntry | null = null;
  let player: ReplayPlayer | null = null;

  const open = async (g: GameEntry): Promise<void> => {
    current = g;
    player?.stop();
    const replay = await api<Replay>(`/api/runs/${encodeURIComponent(name)}/games?path=${encodeURIComponent(g.path)}&index=${g.index}`);
    if (current !== g) return;
    player = new ReplayPlayer(replay);
    clear(playerBox);
    playerBox.append(player.el);
    for (const row of list.querySelectorAll("tr.selected")) row.classList.remove("selected");
    list.querySelector(`tr[data-key="${CSS.escape(`${g.path}#${g.index}`)}"]`)?.classList.add("selected");
  };

  const draw = (): void => {
    shown = filterGames(games, filter);
    count.textContent = `${shown.length} of ${games.length} game(s)`;
    clear(list);
    if (shown.length === 0) {
      list.append(h("p", { class: "muted" }, "No game matches the filters."));
      return;
    }
    list.append(h("table", { class: "games" },
      h("thead", {}, h("tr", {}, ...["Step", "Game", "Seats", "Outcome", "Moves", "File"].map((c) => h("th", {}, c)))),
      h("tbody", {}, ...shown.slice(0, limit).map((g) => h("tr", {
        "data-testid": "game-row", "data-key": `${g.path}#${g.index}`, "data-game": g.gameId, "data-outcome": outcomeOf(g),
        class: current === g ? "selected" : "", tabindex: "0", click: () => void open(g),
      }, h("td", { class: "num" }, g.step === null ? "–" : String(g.step)), h("td", {}, g.gameId), h("td", {}, seatsText(g)),
      h("td", { class: `outcome ${outcomeOf(g)}` }, OUTCOME_TEXT[outcomeOf(g)] + (g.invalidSeat === null ? "" : ` (P${g.invalidSeat})`)),
      h("td", { class: "num" }, String(g.moves)), h("td", { class: "muted small" }, `${g.path} #${g.index + 1}`))))));
    if (shown.length > limit) list.append(h("button", { "data-testid": "more", click: () => { limit += PAGE; draw(); } }, `Show ${Math.min(PAGE, shown.length - limit)} more of ${shown.length - limit}`));
  };
  const change = (update: Partial<GameFilter>): void => {
    Object.assign(filter, update);
    limit = PAGE;
    draw();
    const first = shown[0];
    if (first !== undefined && (current === null || !shown.includes(current))) void open(first);
  };

  const gameIds = [...new Set(games.map((g) => g.gameId))].sort();
  const steps = games.map((g) => g.step).filter((s): s is number => s !== null);
  const stepInput = (testid: string, key: "minStep" | "maxStep", placeholder: string): HTMLInputElement => h("input", {
    type: "number", "data-testid": testid, placeholder, class: "step-input", min: "0",
    input: (e: Event) => {
      const v = (e.target as HTMLInputElement).value;
      change({ [key]: v === "" ? null : Number(v) });
    },
  });
  const filters = h("div", { class: "toolbar", "data-testid": "game-filters" },
    h("label", {}, "game ", h("select", { "data-testid": "filter-game", change: (e: Event) => change({ game: (e.target as HTMLSelectElement).value }) },
      h("option", { value: "" }, `all (${gameIds.length})`), ...gameIds.map((id) => h("option", { value: id }, `${id} (${games.filter((g) => g.gameId === id).length})`)))),
    h("label", {}, "policy seat ", h("select", { "data-testid": "filter-seat", change: (e: Event) => change({ seat: (e.target as HTMLSelectElement).value as GameFilter["seat"] }) },
      h("option", { value: "" }, "any"), h("option", { value: "0" }, "Player 0"), h("option", { value: "1" }, "Player 1"))),
    h("label", {}, "outcome ", h("select", { "data-testid": "filter-outcome", change: (e: Event) => change({ outcome: (e.target as HTMLSelectElement).value as GameFilter["outcome"] }) },
      h("option", { value: "" }, "any"), ...(Object.keys(OUTCOME_TEXT) as Outcome[]).map((o) => h("option", { value: o }, OUTCOME_TEXT[o])))),
    h("label", {}, "steps ", stepInput("filter-min-step", "minStep", steps.length === 0 ? "from" : String(Math.min(...steps))), " – ",
      stepInput("filter-max-step", "maxStep", steps.length === 0 ? "to" : String(Math.max(...steps)))),
    count);

  app.append(...header, h("h1", {}, `Games of ${name}`),
    games.length === 0 ? h("p", {}, "No recorded games in this run (transcripts/*.jsonl, or games.jsonl from spiral eval --out).") : h("div", {}, filters, list, playerBox));
  draw();
  if (shown[0] !== undefined) await open(shown[0]);

  const onKey = (e: KeyboardEvent): void => {
    const target = e.target as HTMLElement | null;
    if (target !== null && ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName)) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      const at = current === null ? -1 : shown.indexOf(current);
      const next = shown[at + (e.key === "ArrowDown" ? 1 : -1)];
      if (next !== undefined) {
        if (shown.indexOf(next) >= limit) { limit += PAGE; draw(); }
        void open(next);
      }
      e.preventDefault();
    } else if (player?.keys(e) === true) e.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  return () => {
    document.removeEventListener("keydown", onKey);
    player?.stop();
  };
}

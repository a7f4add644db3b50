/**
 * The play view: a person against a policy (a reference agent, a run's checkpoint, or any policy
 * spec typed in), in either seat. Boards are clickable; a typed reply is sent with Enter; games
 * with many legal moves (negotiation offers) get a searchable picker over all of them. A policy
 * that cannot be opened shows a red error and removes the old game.
 */
import { api, type CheckpointListing, type GameListing, type PlayView } from "./api.js";
import { clear, h } from "./dom.js";
import { C4_COLOURS, C4_MARKS, drawGame, TTT_MARKS } from "./game-views.js";

/** Up to this many legal moves are shown as buttons; more get the search picker. */
const BUTTONS = 24;
const MATCHES = 40;

/** "Player 0 (O, moves first)": the mark the game's text uses, and who acts first. */
export function seatLabel(game: GameListing | undefined, seat: 0 | 1): string {
  const id = game?.id ?? "";
  const mark = id.startsWith("TicTacToe") ? TTT_MARKS[seat] : id.startsWith("ConnectFour") ? `${C4_MARKS[seat]}, ${C4_COLOURS[seat]}` : "";
  const role = game?.seats[seat] ?? "";
  const parts = [mark, role].filter((p) => p !== "");
  return `Player ${seat}${parts.length === 0 ? "" : ` (${parts.join(", ")})`}`;
}

/**
 * A query as a pattern: its words in order, each at the start of a word of the move; a number
 * matches only the whole number ("10 wood -> 10 gold" does not match "1 Wood -> 10 Gold").
 */
export function searchPattern(query: string): RegExp {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== "");
  const parts = words.map((w) => `(?<![a-z0-9])${w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${/^\d+$/.test(w) ? "(?![0-9])" : ""}`);
  return new RegExp(parts.join(".*"), "i");
}

/** A search box over every legal move, showing the first matches and how many there are. */
function movePicker(legal: readonly string[], send: (move: string) => void): HTMLElement {
  const results = h("div", { class: "legal" });
  const note = h("div", { class: "muted small", "data-testid": "legal-count" });
  const search = h("input", { type: "search", "data-testid": "legal-search", placeholder: `search ${legal.length} legal moves, e.g. "3 Wood"`, size: "32" });
  const show = (): void => {
    const pattern = searchPattern(search.value);
    const matches = legal.filter((m) => pattern.test(m));
    clear(results);
    results.append(...matches.slice(0, MATCHES).map((a) => h("button", { "data-testid": "legal", click: () => send(a) }, a)));
    note.textContent = matches.length > MATCHES
      ? `${matches.length} of ${legal.length} legal moves match; the first ${MATCHES} are shown: narrow the search`
      : `${matches.length} of ${legal.length} legal moves match`;
  };
  search.addEventListener("input", show);
  show();
  return h("div", { class: "picker" }, search, note, results);
}

export async function playView(app: HTMLElement, header: HTMLElement[]): Promise<void> {
  const [games, checkpoints] = await Promise.all([api<GameListing[]>("/api/games"), api<CheckpointListing[]>("/api/checkpoints").catch(() => [] as CheckpointListing[])]);
  const gameSel = h("select", { "data-testid": "play-game" }, ...games.map((g) => h("option", { value: g.id }, `${g.name} (${g.id})`)));
  const policy = h("input", { "data-testid": "play-policy", value: "random", size: "32", list: "policy-options",
    title: "a reference agent, a checkpoint directory (absolute or relative to the runs directory) or openai:<url>#<model>" });
  const pick = h("select", { "data-testid": "play-policy-pick", title: "pick a reference agent or a checkpoint" });
  const seatSel = h("select", { "data-testid": "play-seat" });
  const seed = h("input", { type: "number", value: "0", "data-testid": "play-seed", class: "seed" });
  const board = h("div", { "data-testid": "play-board" });
  const status = h("div", { class: "muted", "data-testid": "play-status" });
  const current = (): GameListing | undefined => games.find((g) => g.id === gameSel.value);
  const refreshChoices = (): void => {
    const g = current();
    const seat = seatSel.value === "" ? "0" : seatSel.value;
    clear(seatSel);
    seatSel.append(...([0, 1] as const).map((s) => h("option", { value: String(s), ...(String(s) === seat ? { selected: "" } : {}) }, seatLabel(g, s))));
    clear(pick);
    pick.append(h("option", { value: "" }, "choose…"),
      h("optgroup", { label: "reference agents" }, ...(g?.references ?? []).map((r) => h("option", { value: r }, r))),
      h("optgroup", { label: "checkpoints" }, ...(checkpoints.length === 0 ? [h("option", { value: "", disabled: "" }, "none in this runs directory")]
        : checkpoints.map((c) => h("option", { value: c.spec }, `${c.run} · step ${c.step}`)))));
  };
  gameSel.addEventListener("change", refreshChoices);
  pick.addEventListener("change", () => {
    if (pick.value !== "") policy.value = pick.value;
  });
  refreshChoices();
  const options = h("datalist", { id: "policy-options" }, ...checkpoints.map((c) => h("option", { value: c.spec })));

  const fail = (message: string): void => {
    clear(board);
    status.className = "error-box";
    status.textContent = message;
  };
  const show = (v: PlayView): void => {
    clear(board);
    const send = (text: string): void => void api<PlayView>(`/api/play/${v.id}`, { move: text }).then(show, (e: Error) => fail(e.message));
    const infos: [unknown, unknown] = v.humanSeat === 0 ? [v.infoState, null] : [null, v.infoState];
    const move = h("input", { "data-testid": "play-move", size: "32", placeholder: v.legal[0] === undefined ? "your reply" : `e.g. ${v.legal[0]}`,
      keydown: (e: Event) => {
        if ((e as KeyboardEvent).key === "Enter") send(move.value);
      } });
    const mine = v.returns[v.humanSeat];
    const theirs = v.returns[v.humanSeat === 0 ? 1 : 0];
    const result = mine > theirs ? "you won" : mine < theirs ? "you lost" : "a draw";
    board.append(
      h("div", { class: "cols" }, drawGame(v.gameId, infos, v.toAct ? { legal: v.legal, onMove: send } : {}) ?? h("span", {}, ""), h("pre", { class: "view" }, v.view)),
      h("ol", { class: "turns", "data-testid": "turns" }, ...v.turns.map((t) => h("li", { class: t.valid ? "" : "invalid", "data-who": t.who },
        `Player ${t.seat} (${t.who === "human" ? "you" : v.policy}): ${t.action ?? t.reply}${t.raw !== t.reply ? ` — reply: ${t.raw}` : ""}${t.valid ? "" : ` — invalid: ${t.reason ?? ""}`}`))),
      v.error === null ? "" : h("div", { class: "error-box", "data-testid": "play-error" }, v.error),
      v.done
        ? h("div", { "data-testid": "play-result", class: "result" }, h("b", {}, `Game over: ${result}`), ` (returns P0 ${v.returns[0]}, P1 ${v.returns[1]})`)
        : v.toAct
          ? h("div", {},
            v.legal.length <= BUTTONS
              ? h("div", { class: "legal" }, ...v.legal.map((a) => h("button", { "data-testid": "legal", click: () => send(a) }, a)))
              : movePicker(v.legal, send),
            h("div", { class: "send" }, move, h("button", { "data-testid": "play-send", click: () => send(move.value) }, "Send"), h("span", { class: "muted small" }, " or press Enter")))
          : "");
    if (v.toAct) move.focus({ preventScroll: true });
  };
  const start = h("button", { "data-testid": "play-start", class: "primary", click: () => {
    status.className = "muted";
    status.textContent = "starting…";
    void api<PlayView>("/api/play", { gameId: gameSel.value, policy: policy.value, seat: Number(seatSel.value), seed: Number(seed.value) })
      .then((v) => {
        status.className = "muted";
        status.textContent = `Game ${v.id}: you are ${seatLabel(current(), v.humanSeat)} against ${v.policy}`;
        show(v);
      }, (e: Error) => fail(`Could not start the game: ${e.message}`));
  } }, "New game");
  app.append(...header, h("h1", {}, "Play"),
    h("div", { class: "form toolbar" }, h("label", {}, "game ", gameSel), h("label", {}, "against ", pick, policy), options,
      h("label", {}, "as ", seatSel), h("label", {}, "seed ", seed), start),
    status, board);
}

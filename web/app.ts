/**
 * The dashboard app. Views, by URL hash:
 *   #/                    run list (status, steps, latest figures); tick runs to overlay them
 *   #/runs/A,B            plots of one run or several overlaid, polled for appended lines
 *   #/games/A             replays of the run's recorded games, step by step
 *   #/play                a person against a policy spec, in either seat
 * In a report (`spiral report`), the data is inlined as `window.__SPIRAL_REPORT__` and only the
 * plots and the summary table are shown.
 */
import "uplot/dist/uPlot.min.css";
import "./app.css";
import { Chart, chartSpecs, type MetricsLine, type RunMetrics } from "./charts.js";
import { clear, h } from "./dom.js";
import { drawGame } from "./game-views.js";

interface RunSummary {
  name: string;
  status: string;
  totalSteps: number | null;
  step: number | null;
  config: Record<string, unknown> | null;
  updated: number;
  latestStep: MetricsLine | null;
  latestEval: MetricsLine | null;
  notices: string[];
}

interface MetricsChunk {
  lines: MetricsLine[];
  notices: string[];
  next: number;
  nextLine: number;
}

interface Report {
  runs: { summary: RunSummary; lines: MetricsLine[] }[];
  generated: string;
}

declare global {
  interface Window {
    __SPIRAL_REPORT__?: Report;
  }
}

const POLL_MS = 2000;
const app = document.getElementById("app") as HTMLElement;
let stopView: () => void = () => undefined;

async function api<T>(url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const value = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(value.error ?? `${res.status} ${res.statusText}`);
  return value;
}

function fmt(value: unknown, digits = 3): string {
  return typeof value === "number" && Number.isFinite(value) ? (Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(digits)) : "–";
}

function pick(line: MetricsLine | null, ...keys: string[]): unknown {
  let v: unknown = line;
  for (const k of keys) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function notices(list: readonly string[]): HTMLElement | null {
  if (list.length === 0) return null;
  return h("div", { class: "notices", "data-testid": "notices" }, h("b", {}, "Notices"), h("ul", {}, ...list.map((n) => h("li", {}, n))));
}

function nav(): HTMLElement {
  return h("nav", {}, h("a", { href: "#/" }, "Runs"), h("a", { href: "#/play" }, "Play"));
}

/** The summary table: one row per run with its latest figures. */
function runTable(runs: readonly RunSummary[], selectable: boolean, selected: Set<string>): HTMLElement {
  const header = ["Run", "Status", "Step", "Games", "Loss", "KL", "Entropy", "Invalid", "Reply len", "Kuhn expl.", "Samples/s"];
  return h("table", { class: "runs", "data-testid": "run-table" },
    h("tr", {}, ...(selectable ? ["Overlay", ...header, "Replays"] : header).map((c) => h("th", {}, c))),
    ...runs.map((r) => {
      const games = Array.isArray(r.config?.games) ? (r.config.games as { id: string }[]).map((g) => g.id).join(", ") : "";
      const box = h("input", { type: "checkbox", "data-run": r.name, change: (e: Event) => {
        if ((e.target as HTMLInputElement).checked) selected.add(r.name);
        else selected.delete(r.name);
      } });
      return h("tr", { "data-testid": "run-row", "data-run": r.name },
        selectable ? h("td", {}, box) : null,
        h("td", {}, selectable ? h("a", { href: `#/runs/${encodeURIComponent(r.name)}` }, r.name) : r.name),
        h("td", {}, h("span", { class: `status ${r.status}` }, r.status)),
        h("td", {}, `${r.step ?? "–"}${r.totalSteps === null ? "" : ` / ${r.totalSteps}`}`),
        h("td", {}, games),
        h("td", {}, fmt(pick(r.latestStep, "learner", "loss"))),
        h("td", {}, fmt(pick(r.latestStep, "learner", "approxKl"))),
        h("td", {}, fmt(pick(r.latestStep, "learner", "entropy"))),
        h("td", {}, fmt(pick(r.latestStep, "invalidRate"))),
        h("td", {}, fmt(pick(r.latestStep, "replyLength"))),
        h("td", {}, fmt(pick(r.latestEval, "kuhn", "exploitability"))),
        h("td", {}, fmt(pick(r.latestStep, "samplesPerSecond"))),
        selectable ? h("td", {}, h("a", { href: `#/games/${encodeURIComponent(r.name)}` }, "games")) : null);
    }));
}

async function runListView(): Promise<void> {
  const { root, runs } = await api<{ root: string; runs: RunSummary[] }>("/api/runs");
  const selected = new Set<string>();
  const compare = h("button", { "data-testid": "compare", click: () => {
    if (selected.size > 0) location.hash = `#/runs/${[...selected].map(encodeURIComponent).join(",")}`;
  } }, "Overlay selected runs");
  app.append(nav(), h("h1", {}, "Runs"), h("p", { class: "muted" }, `${runs.length} run(s) in ${root}`),
    runs.length === 0 ? h("p", {}, "No runs yet: start one with `spiral train --out DIR` and point the dashboard at DIR.") : runTable(runs, true, selected),
    compare);
  const timer = setInterval(() => void api<{ runs: RunSummary[] }>("/api/runs").then(({ runs: fresh }) => {
    // A new run appeared: draw the list again (ticked boxes are kept only within one drawing).
    if (fresh.some((r) => !runs.some((old) => old.name === r.name))) return void route();
    for (const r of fresh) {
      const row = app.querySelector(`tr[data-run="${CSS.escape(r.name)}"]`);
      const status = row?.querySelector(".status");
      if (status !== null && status !== undefined && status.textContent !== r.status) {
        status.textContent = r.status;
        status.className = `status ${r.status}`;
      }
    }
  }).catch(() => undefined), POLL_MS * 5);
  stopView = () => clearInterval(timer);
}

function plotGrid(runs: readonly RunMetrics[], grid: HTMLElement, charts: Map<string, Chart>): void {
  for (const spec of chartSpecs(runs)) {
    let chart = charts.get(spec.id);
    if (chart === undefined) {
      chart = new Chart(spec);
      charts.set(spec.id, chart);
      grid.append(chart.el);
    }
    chart.update(runs);
  }
}

async function runView(names: string[]): Promise<void> {
  const runs = names.map((name) => ({ name, lines: [] as MetricsLine[], next: 0, nextLine: 1, notices: [] as string[] }));
  const noticeBox = h("div", {});
  const grid = h("div", { class: "grid", "data-testid": "plots" });
  const live = h("span", { class: "muted", "data-testid": "live" }, "");
  app.append(nav(), h("h1", {}, names.join(" + ")), h("p", {}, ...names.map((n) => h("a", { href: `#/games/${encodeURIComponent(n)}`, class: "pad" }, `games of ${n}`)), live), noticeBox, grid);
  const charts = new Map<string, Chart>();
  let stopped = false;
  const poll = async (): Promise<void> => {
    let grew = false;
    for (const run of runs) {
      const chunk = await api<MetricsChunk>(`/api/runs/${encodeURIComponent(run.name)}/metrics?from=${run.next}&line=${run.nextLine}`);
      if (chunk.lines.length > 0 || chunk.notices.length > 0) grew = true;
      run.lines.push(...chunk.lines);
      run.notices.push(...chunk.notices);
      run.next = chunk.next;
      run.nextLine = chunk.nextLine;
    }
    if (grew) {
      clear(noticeBox);
      const all = notices(runs.flatMap((r) => r.notices.map((n) => `${r.name}: ${n}`)));
      if (all !== null) noticeBox.append(all);
      plotGrid(runs, grid, charts);
    }
    live.textContent = ` · updated ${new Date().toLocaleTimeString()} (polling every ${POLL_MS / 1000} s)`;
  };
  await poll();
  if (charts.size === 0) grid.append(h("p", {}, "No metrics yet."));
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await new Promise((ok) => setTimeout(ok, POLL_MS));
      if (!stopped) await poll().catch((e: Error) => void (live.textContent = ` · ${e.message}`));
    }
  };
  void loop();
  stopView = () => void (stopped = true);
}

interface Frame {
  seat: 0 | 1;
  turn: number;
  before: { views: [string, string]; infos: [unknown, unknown] };
  reply: string;
  raw: string;
  parsed: string | null;
  valid: boolean;
  reason: string | null;
}

interface Replay {
  gameId: string;
  seed: number;
  players: [string, string];
  returns: [number, number];
  endReason: string;
  step: number | null;
  frames: Frame[];
  final: { views: [string, string]; infos: [unknown, unknown] };
  mismatch: string | null;
}

function stateBox(gameId: string, infos: readonly [unknown, unknown], views: readonly string[]): HTMLElement {
  return drawGame(gameId, infos) ?? h("pre", { class: "view", "data-testid": "board" }, views.join("\n\n"));
}

function replayPlayer(replay: Replay): HTMLElement {
  const box = h("div", { class: "replay", "data-testid": "replay" });
  let index = 0;
  const last = replay.frames.length; // index == frames.length: the final state
  const render = (): void => {
    clear(box);
    const frame = replay.frames[index];
    const state = frame === undefined ? replay.final : frame.before;
    const controls = h("div", { class: "controls" },
      h("button", { "data-testid": "prev", click: () => { if (index > 0) { index--; render(); } } }, "◀ Prev"),
      h("span", { "data-testid": "position" }, `${index} / ${last}`),
      h("button", { "data-testid": "next", click: () => { if (index < last) { index++; render(); } } }, "Next ▶"));
    const reply = frame === undefined
      ? h("div", { class: "reply" }, h("b", {}, `Game over (${replay.endReason}): returns P0 ${replay.returns[0]}, P1 ${replay.returns[1]}`))
      : h("div", { class: `reply ${frame.valid ? "valid" : "invalid"}`, "data-testid": "reply" },
        h("div", {}, h("b", {}, `Move ${frame.turn}: Player ${frame.seat} (${replay.players[frame.seat]})`)),
        h("div", { class: "cols" },
          h("div", {}, h("small", {}, "Full reply"), h("pre", { class: "raw" }, frame.raw)),
          h("div", {}, h("small", {}, "Parsed action"), h("pre", {}, frame.parsed ?? "(none)"),
            frame.valid ? h("span", { class: "ok" }, "valid") : h("span", { class: "bad", "data-testid": "invalid" }, `invalid: ${frame.reason ?? ""}`))));
    box.append(
      h("div", { class: "muted" }, `${replay.gameId} · seed ${replay.seed} · ${replay.players[0]} (P0) vs ${replay.players[1]} (P1)${replay.step === null ? "" : ` · step ${replay.step}`}`),
      replay.mismatch === null ? "" : h("div", { class: "bad", "data-testid": "mismatch" }, `Warning: ${replay.mismatch}`),
      controls, h("div", { class: "cols" }, stateBox(replay.gameId, state.infos, state.views), reply));
  };
  render();
  return box;
}

async function gamesView(name: string): Promise<void> {
  const files = await api<{ path: string; games: number }[]>(`/api/runs/${encodeURIComponent(name)}/games`);
  const list = h("div", { class: "game-list" });
  const player = h("div", {});
  const noticeBox = h("div", {});
  const select = h("select", { "data-testid": "game-file", change: () => void load(select.value) },
    ...files.map((f) => h("option", { value: f.path }, `${f.path} (${f.games} games)`)));
  const load = async (path: string): Promise<void> => {
    const { replays, notices: ns } = await api<{ replays: Replay[]; notices: string[] }>(`/api/runs/${encodeURIComponent(name)}/games?path=${encodeURIComponent(path)}`);
    clear(list);
    clear(player);
    clear(noticeBox);
    const n = notices(ns);
    if (n !== null) noticeBox.append(n);
    replays.forEach((r, i) => list.append(h("button", { "data-testid": "game", click: () => { clear(player); player.append(replayPlayer(r)); } },
      `#${i + 1} ${r.gameId} ${r.returns[0] > 0 ? "P0 won" : r.returns[0] < 0 ? "P1 won" : "draw"}${r.frames.some((f) => !f.valid) ? " · invalid" : ""}`)));
    if (replays[0] !== undefined) player.append(replayPlayer(replays[0]));
  };
  app.append(nav(), h("h1", {}, `Games of ${name}`),
    files.length === 0 ? h("p", {}, "No recorded games in this run (transcripts/*.jsonl or games.jsonl).") : select, noticeBox, list, player);
  if (files[0] !== undefined) await load(files[0].path);
}

interface PlayView {
  id: string;
  gameId: string;
  humanSeat: 0 | 1;
  policy: string;
  view: string;
  infoState: unknown;
  legal: string[];
  toAct: boolean;
  done: boolean;
  returns: [number, number];
  turns: { seat: 0 | 1; who: string; reply: string; raw: string; action: string | null; valid: boolean; reason: string | null }[];
  error: string | null;
}

async function playView(): Promise<void> {
  const games = await api<{ id: string; name: string; references: string[] }[]>("/api/games");
  const gameSel = h("select", { "data-testid": "play-game" }, ...games.map((g) => h("option", { value: g.id }, `${g.name} (${g.id})`)));
  const policy = h("input", { "data-testid": "play-policy", value: "random", size: "40", title: "a reference agent, a checkpoint directory (absolute or relative to the runs directory) or openai:<url>#<model>" });
  const seatSel = h("select", { "data-testid": "play-seat" }, h("option", { value: "0" }, "Player 0 (moves first)"), h("option", { value: "1" }, "Player 1"));
  const seed = h("input", { type: "number", value: "0", "data-testid": "play-seed", style: "width: 6em" });
  const board = h("div", { "data-testid": "play-board" });
  const status = h("div", { class: "muted" });
  let session: PlayView | null = null;
  const show = (v: PlayView): void => {
    session = v;
    clear(board);
    const infos: [unknown, unknown] = v.humanSeat === 0 ? [v.infoState, null] : [null, v.infoState];
    const move = h("input", { "data-testid": "play-move", size: "40", placeholder: v.legal[0] ?? "" });
    const send = (text: string): void => void api<PlayView>(`/api/play/${v.id}`, { move: text }).then(show, (e: Error) => void (status.textContent = e.message));
    board.append(
      h("div", { class: "cols" }, drawGame(v.gameId, infos) ?? h("span", {}, ""), h("pre", { class: "view" }, v.view)),
      h("ol", { class: "turns", "data-testid": "turns" }, ...v.turns.map((t) => h("li", { class: t.valid ? "" : "invalid", "data-who": t.who },
        `Player ${t.seat} (${t.who === "human" ? "you" : v.policy}): ${t.action ?? t.reply}${t.raw !== t.reply ? ` — reply: ${t.raw}` : ""}${t.valid ? "" : ` — invalid: ${t.reason ?? ""}`}`))),
      v.error === null ? "" : h("div", { class: "bad", "data-testid": "play-error" }, v.error),
      v.done
        ? h("div", { "data-testid": "play-result" }, h("b", {}, `Game over: you ${v.returns[v.humanSeat] > 0 ? "won" : v.returns[v.humanSeat] < 0 ? "lost" : "drew"} (returns P0 ${v.returns[0]}, P1 ${v.returns[1]})`))
        : v.toAct
          ? h("div", {}, h("div", { class: "legal" }, ...v.legal.slice(0, 60).map((a) => h("button", { "data-testid": "legal", click: () => send(a) }, a))),
            move, h("button", { "data-testid": "play-send", click: () => send(move.value) }, "Send"))
          : "");
  };
  const start = h("button", { "data-testid": "play-start", click: () => {
    status.textContent = "starting…";
    void api<PlayView>("/api/play", { gameId: gameSel.value, policy: policy.value, seat: Number(seatSel.value), seed: Number(seed.value) })
      .then((v) => { status.textContent = `Game ${v.id}: you are Player ${v.humanSeat} against ${v.policy}`; show(v); }, (e: Error) => void (status.textContent = e.message));
  } }, "New game");
  app.append(nav(), h("h1", {}, "Play"), h("div", { class: "form" }, gameSel, " against ", policy, " as ", seatSel, " seed ", seed, start), status, board);
  void session;
}

function reportView(report: Report): void {
  const runs: RunMetrics[] = report.runs.map((r) => ({ name: r.summary.name, lines: r.lines }));
  const grid = h("div", { class: "grid", "data-testid": "plots" });
  app.append(h("h1", {}, `spiral report: ${runs.map((r) => r.name).join(" + ")}`), h("p", { class: "muted" }, `Generated ${report.generated}`),
    runTable(report.runs.map((r) => r.summary), false, new Set()), notices(report.runs.flatMap((r) => r.summary.notices)) ?? "", grid);
  plotGrid(runs, grid, new Map());
}

async function route(): Promise<void> {
  stopView();
  stopView = () => undefined;
  clear(app);
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  try {
    if (parts[0] === "runs" && parts[1] !== undefined) await runView(parts[1].split(",").map(decodeURIComponent));
    else if (parts[0] === "games" && parts[1] !== undefined) await gamesView(decodeURIComponent(parts[1]));
    else if (parts[0] === "play") await playView();
    else await runListView();
  } catch (e) {
    app.append(h("div", { class: "bad" }, `Error: ${(e as Error).message}`));
  }
}

if (window.__SPIRAL_REPORT__ !== undefined) reportView(window.__SPIRAL_REPORT__);
else {
  window.addEventListener("hashchange", () => void route());
  void route();
}

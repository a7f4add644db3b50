/**
 * The dashboard app. Views, by URL hash:
 *   #/                    runs table (status, progress, time, evaluation, latest figures)
 *   #/runs/A,B            plots of one run or several overlaid, polled for appended lines
 *   #/games/A             the run's recorded games: filters and a replay player
 *   #/play                a person against a policy spec, in either seat
 *   #/sweeps              the sweeps under the root, each linking to its live report (/sweeps/NAME)
 * In a report (`spiral report`), the data is inlined as `window.__SPIRAL_REPORT__` and the final
 * results, the evaluation table per step, the config and the plots are shown.
 */
import "uplot/dist/uPlot.min.css";
import "./app.css";
import { api, type MetricsChunk, type Report, type RunSummary, type SweepSummary } from "./api.js";
import { ChartBoard, type MetricsLine, type RunMetrics } from "./charts.js";
import { clear, h } from "./dom.js";
import { fmtInterval, fmtNumber } from "./format.js";
import { gamesView } from "./games-view.js";
import { playView } from "./play-view.js";
import { RunTable } from "./runs-table.js";
import { matchupKey, matchupKeys, matchupsOf, RATE_LABELS, rateKinds } from "./series.js";

declare global {
  interface Window {
    __SPIRAL_REPORT__?: Report;
  }
}

const POLL_MS = 2000;
const app = document.getElementById("app") as HTMLElement;
let stopView: () => void = () => undefined;

function notices(list: readonly string[]): HTMLElement | null {
  if (list.length === 0) return null;
  return h("div", { class: "notices", "data-testid": "notices" }, h("b", {}, "Notices"), h("ul", {}, ...list.map((n) => h("li", {}, n))));
}

function nav(): HTMLElement {
  const here = location.hash.startsWith("#/play") ? "play" : location.hash.startsWith("#/sweeps") ? "sweeps" : "runs";
  return h("nav", {}, h("b", { class: "brand" }, "spiral"), h("a", { href: "#/", class: here === "runs" ? "here" : "" }, "Runs"),
    h("a", { href: "#/sweeps", class: here === "sweeps" ? "here" : "" }, "Sweeps"), h("a", { href: "#/play", class: here === "play" ? "here" : "" }, "Play"));
}

/** Sweeps under the root: progress, and a link to each one's report (server-rendered, live). */
async function sweepListView(): Promise<void> {
  const sweeps = await api<SweepSummary[]>("/api/sweeps");
  const row = (s: SweepSummary) => h("tr", {},
    h("td", {}, h("a", { href: `/sweeps/${encodeURIComponent(s.name)}`, "data-testid": "sweep-link" }, s.name)),
    h("td", {}, `${s.done}/${s.runs}`), h("td", {}, String(s.running)), h("td", {}, String(s.failed)));
  app.append(nav(), h("h1", {}, "Sweeps"),
    h("p", { class: "muted" }, "Each report shows every config's final metrics as mean and 95% interval over its finished seeds, and its learning curves as median and interquartile band; it reads the runs as they are now."),
    sweeps.length === 0
      ? h("p", {}, "No sweeps here: run `spiral sweep … --out DIR` and point the dashboard at DIR.")
      : h("table", { "data-testid": "sweeps" }, h("tr", {}, h("th", {}, "sweep"), h("th", {}, "runs done"), h("th", {}, "running"), h("th", {}, "failed")), ...sweeps.map(row)));
}

async function runListView(): Promise<void> {
  const { root, runs } = await api<{ root: string; runs: RunSummary[] }>("/api/runs");
  const selected = new Set<string>();
  const compare = h("button", { "data-testid": "compare", class: "primary", disabled: "", click: () => {
    if (selected.size > 0) location.hash = `#/runs/${[...selected].map(encodeURIComponent).join(",")}`;
  } }, "Overlay selected runs");
  const table = new RunTable({ interactive: true, selected, onSelect: () => void (compare.disabled = selected.size === 0) });
  table.update(runs);
  app.append(nav(), h("h1", {}, "Runs"), h("p", { class: "muted" }, `${runs.length} run(s) in ${root}`),
    runs.length === 0 ? h("p", {}, "No runs yet: start one with `spiral train --out DIR` and point the dashboard at DIR.") : table.el,
    runs.length === 0 ? "" : compare);
  const timer = setInterval(() => void api<{ runs: RunSummary[] }>("/api/runs").then(({ runs: fresh }) => table.update(fresh)).catch(() => undefined), POLL_MS * 5);
  stopView = () => clearInterval(timer);
}

async function runView(names: string[]): Promise<void> {
  const runs = names.map((name) => ({ name, lines: [] as MetricsLine[], next: 0, nextLine: 1, notices: [] as string[] }));
  const noticeBox = h("div", {});
  const live = h("span", { class: "muted", "data-testid": "live" }, "");
  const board = new ChartBoard(names);
  app.append(nav(), h("h1", {}, names.join(" + ")), h("p", {}, ...names.map((n) => h("a", { href: `#/games/${encodeURIComponent(n)}`, class: "pad" }, `games of ${n}`)), live), noticeBox, board.el);
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
    if (grew && !stopped) {
      clear(noticeBox);
      const all = notices(runs.flatMap((r) => r.notices.map((n) => `${r.name}: ${n}`)));
      if (all !== null) noticeBox.append(all);
      board.update(runs);
    }
    live.textContent = ` · updated ${new Date().toLocaleTimeString()} (polling every ${POLL_MS / 1000} s)`;
  };
  await poll();
  board.update(runs);
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await new Promise((ok) => setTimeout(ok, POLL_MS));
      if (!stopped) await poll().catch((e: Error) => void (live.textContent = ` · ${e.message}`));
    }
  };
  void loop();
  stopView = () => {
    stopped = true;
    board.destroy();
  };
}

/** Per run: the last evaluation, every matchup with its rates and intervals, and Kuhn exploitability. */
function finalResults(runs: readonly RunMetrics[]): HTMLElement {
  const rows = runs.flatMap((run) => {
    const evals = run.lines.filter((l) => l.kind === "eval");
    const last = evals[evals.length - 1];
    if (last === undefined) return [h("tr", {}, h("td", {}, run.name), h("td", { colspan: "7", class: "muted" }, "no evaluation yet"))];
    const kuhn = (last.kuhn as { exploitability?: number } | undefined)?.exploitability;
    return [
      ...matchupsOf(last).map((m) => h("tr", { "data-testid": "final-row" }, h("td", {}, run.name), h("td", { class: "num" }, String(last.step)), h("td", {}, matchupKey(m)),
        h("td", { class: "num" }, String(m.rates.games ?? "–")),
        ...(["win", "draw", "loss", "nonLoss"] as const).map((k) => h("td", { class: "num" }, rateKinds(m.gameId).includes(k) ? fmtInterval(m.rates[k]?.rate, m.rates[k]?.low, m.rates[k]?.high) : "")))),
      ...(kuhn === undefined ? [] : [h("tr", { "data-testid": "final-row" }, h("td", {}, run.name), h("td", { class: "num" }, String(last.step)), h("td", {}, "Kuhn exploitability"), h("td", {}, ""),
        h("td", { colspan: "4", class: "num" }, `${fmtNumber(kuhn)} chips/hand`))]),
    ];
  });
  return h("div", { class: "table-wrap" }, h("table", { class: "runs", "data-testid": "final-results" },
    h("thead", {}, h("tr", {}, ...["Run", "Step", "Evaluation", "Games", "Win", "Draw", "Loss", "Non-loss"].map((c) => h("th", {}, c)))), h("tbody", {}, ...rows)));
}

/** Every evaluation step of every run: one row per (run, step), win rate per matchup and Kuhn exploitability. */
function evalTable(runs: readonly RunMetrics[]): HTMLElement {
  const keys = matchupKeys(runs.flatMap((r) => r.lines));
  const hasKuhn = runs.some((r) => r.lines.some((l) => l.kind === "eval" && typeof (l.kuhn as { exploitability?: unknown } | undefined)?.exploitability === "number"));
  const rows = runs.flatMap((run) => run.lines.filter((l) => l.kind === "eval").map((l) => {
    const ms = matchupsOf(l);
    return h("tr", { "data-testid": "eval-row" }, h("td", {}, run.name), h("td", { class: "num" }, String(l.step)),
      ...keys.map(({ key }) => {
        const r = ms.find((m) => matchupKey(m) === key)?.rates.win;
        return h("td", { class: "num" }, r === undefined ? "–" : fmtInterval(r.rate, r.low, r.high));
      }),
      hasKuhn ? h("td", { class: "num" }, fmtNumber((l.kuhn as { exploitability?: number } | undefined)?.exploitability)) : null);
  }));
  return h("div", { class: "table-wrap" }, h("table", { class: "runs", "data-testid": "eval-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "Run"), h("th", {}, "Step"), ...keys.map(({ key }) => h("th", {}, `${key}: ${RATE_LABELS.win}`)), hasKuhn ? h("th", {}, "Kuhn exploitability") : null)),
    h("tbody", {}, ...rows)));
}

function reportView(report: Report): void {
  const runs: RunMetrics[] = report.runs.map((r) => ({ name: r.summary.name, lines: r.lines }));
  const table = new RunTable({ interactive: false });
  table.update(report.runs.map((r) => r.summary));
  const board = new ChartBoard(runs.map((r) => r.name));
  app.append(h("h1", {}, `spiral report: ${runs.map((r) => r.name).join(" + ")}`), h("p", { class: "muted" }, `Generated ${report.generated}`),
    h("h2", {}, "Final results"), finalResults(runs),
    h("h2", {}, "Runs"), table.el,
    notices(report.runs.flatMap((r) => r.summary.notices)) ?? "",
    h("h2", {}, "Evaluation per step"), evalTable(runs),
    h("h2", {}, "Plots"), board.el,
    h("h2", {}, "Config"), ...report.runs.map((r) => h("details", { class: "config", "data-testid": "config" }, h("summary", {}, `${r.summary.name}: config.json`),
      h("pre", {}, JSON.stringify(r.summary.config, null, 2)))));
  board.update(runs);
}

async function route(): Promise<void> {
  stopView();
  stopView = () => undefined;
  clear(app);
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  try {
    if (parts[0] === "runs" && parts[1] !== undefined) await runView(parts[1].split(",").map(decodeURIComponent));
    else if (parts[0] === "games" && parts[1] !== undefined) stopView = await gamesView(app, decodeURIComponent(parts[1]), [nav()]);
    else if (parts[0] === "play") await playView(app, [nav()]);
    else if (parts[0] === "sweeps") await sweepListView();
    else await runListView();
  } catch (e) {
    app.append(h("div", { class: "error-box" }, `Error: ${(e as Error).message}`));
  }
}

if (window.__SPIRAL_REPORT__ !== undefined) reportView(window.__SPIRAL_REPORT__);
else {
  window.addEventListener("hashchange", () => void route());
  void route();
}

/**
 * The runs table: one row per run with status (from the heartbeat), progress, start, duration and
 * ETA, the latest evaluation per game (win rate against each opponent, Kuhn exploitability) and
 * the latest training figures. Click a header to sort; the filter matches name, status and games.
 */
import type { RunSummary } from "./api.js";
import { clear, h } from "./dom.js";
import { fmtDuration, fmtInterval, fmtNumber, fmtPercent, fmtTime } from "./format.js";
import { matchupKey, matchupKeys, matchupsOf, type MetricsLine } from "./series.js";

type Value = number | string | null;

interface Column {
  readonly id: string;
  readonly label: string;
  readonly title?: string;
  readonly value: (r: RunSummary) => Value;
  readonly cell?: (r: RunSummary) => Node | string;
  /** Numbers are right-aligned. */
  readonly numeric?: boolean;
}

function pick(line: MetricsLine | null, ...keys: string[]): number | null {
  let v: unknown = line;
  for (const k of keys) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function gamesOf(r: RunSummary): string {
  return Array.isArray(r.config?.games) ? (r.config.games as { id?: unknown }[]).map((g) => String(g.id)).join(", ") : "";
}

const STATUS_ORDER: Record<RunSummary["status"], number> = { running: 0, interrupted: 1, crashed: 2, stopped: 3, finished: 4 };

function progress(r: RunSummary): Node {
  const fraction = r.step !== null && r.totalSteps !== null && r.totalSteps > 0 ? Math.min(1, r.step / r.totalSteps) : null;
  return h("span", { class: "progress" }, `${r.step ?? "–"}${r.totalSteps === null ? "" : ` / ${r.totalSteps}`}`,
    fraction === null ? null : h("span", { class: "bar" }, h("span", { style: `width:${(fraction * 100).toFixed(1)}%` })));
}

/** The table's columns for these runs: evaluation columns for every (game, opponent) evaluated. */
function columns(runs: readonly RunSummary[], links: boolean): Column[] {
  const evals = matchupKeys(runs.flatMap((r) => (r.latestEval === null ? [] : [r.latestEval])));
  return [
    { id: "name", label: "Run", value: (r) => r.name, cell: (r) => (links ? h("a", { href: `#/runs/${encodeURIComponent(r.name)}` }, r.name) : r.name) },
    { id: "status", label: "Status", value: (r) => STATUS_ORDER[r.status], cell: (r) => h("span", { class: `status ${r.status}`, title: r.statusDetail }, r.status) },
    { id: "step", label: "Step", value: (r) => r.step, cell: progress, numeric: true },
    { id: "started", label: "Started", value: (r) => r.startedAt, cell: (r) => fmtTime(r.startedAt) },
    { id: "duration", label: "Duration", value: (r) => r.durationSeconds, cell: (r) => fmtDuration(r.durationSeconds), numeric: true },
    { id: "eta", label: "ETA", title: "time to the configured step count at the recent pace (running runs)", value: (r) => r.etaSeconds, cell: (r) => fmtDuration(r.etaSeconds), numeric: true },
    { id: "games", label: "Games", value: gamesOf },
    ...evals.map(({ key }): Column => ({
      id: `eval:${key}`, label: `${key.replace(/-v\d+.*? vs /, " vs ")} win`, numeric: true,
      title: `${key}: win rate at the latest evaluation (hover a value for its 95% interval)`,
      value: (r) => headline(r.latestEval, key)?.rate ?? null,
      cell: (r) => {
        const m = headline(r.latestEval, key);
        return m === null ? "–" : h("span", { title: fmtInterval(m.rate, m.low, m.high) }, fmtPercent(m.rate));
      },
    })),
    { id: "kuhn", label: "Kuhn expl.", title: "exploitability of the Kuhn poker policy (chips per hand; 0 is a Nash equilibrium)", value: (r) => pick(r.latestEval, "kuhn", "exploitability"), cell: (r) => fmtNumber(pick(r.latestEval, "kuhn", "exploitability")), numeric: true },
    { id: "loss", label: "Loss", value: (r) => pick(r.latestStep, "learner", "loss"), cell: (r) => fmtNumber(pick(r.latestStep, "learner", "loss")), numeric: true },
    { id: "kl", label: "KL", value: (r) => pick(r.latestStep, "learner", "approxKl"), cell: (r) => fmtNumber(pick(r.latestStep, "learner", "approxKl")), numeric: true },
    { id: "entropy", label: "Entropy", value: (r) => pick(r.latestStep, "learner", "entropy"), cell: (r) => fmtNumber(pick(r.latestStep, "learner", "entropy")), numeric: true },
    { id: "invalid", label: "Invalid", title: "share of the last step's games ended by an invalid move", value: (r) => pick(r.latestStep, "invalidRate"), cell: (r) => fmtPercent(pick(r.latestStep, "invalidRate")), numeric: true },
    { id: "reply", label: "Reply len", title: "mean tokens per reply", value: (r) => pick(r.latestStep, "replyLength"), cell: (r) => fmtNumber(pick(r.latestStep, "replyLength")), numeric: true },
    { id: "sps", label: "Samples/s", value: (r) => pick(r.latestStep, "samplesPerSecond"), cell: (r) => fmtNumber(pick(r.latestStep, "samplesPerSecond")), numeric: true },
  ];
}

/** The win rate of a matchup at an evaluation, with its interval. */
export function headline(line: MetricsLine | null, key: string): { rate: number; low: number; high: number } | null {
  return matchupsOf(line).find((x) => matchupKey(x) === key)?.rates.win ?? null;
}

function compare(a: Value, b: Value): number {
  // Missing values sort last in either direction (handled by the caller).
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

export interface RunTableOptions {
  /** Links to plots and games, and tick boxes for overlays. */
  readonly interactive: boolean;
  readonly selected?: Set<string>;
  readonly onSelect?: () => void;
}

/** A sortable, filterable runs table; `update` swaps the rows and keeps sort, filter and ticks. */
export class RunTable {
  readonly el: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly count: HTMLElement;
  private runs: readonly RunSummary[] = [];
  private sort: { id: string; dir: 1 | -1 } | null = null;
  private filter = "";
  private status = "";

  constructor(private readonly options: RunTableOptions) {
    this.table = h("table", { class: "runs", "data-testid": "run-table" });
    this.count = h("span", { class: "muted", "data-testid": "run-count" });
    const filter = h("input", { type: "search", placeholder: "filter runs (name, game, status)", "data-testid": "run-filter", input: (e: Event) => {
      this.filter = (e.target as HTMLInputElement).value.trim().toLowerCase();
      this.draw();
    } });
    const status = h("select", { "data-testid": "status-filter", change: (e: Event) => {
      this.status = (e.target as HTMLSelectElement).value;
      this.draw();
    } }, h("option", { value: "" }, "any status"), ...Object.keys(STATUS_ORDER).map((s) => h("option", { value: s }, s)));
    this.el = h("div", {}, options.interactive ? h("div", { class: "toolbar" }, filter, status, this.count) : null, h("div", { class: "table-wrap" }, this.table));
  }

  update(runs: readonly RunSummary[]): void {
    this.runs = runs;
    this.draw();
  }

  private draw(): void {
    const cols = columns(this.runs, this.options.interactive);
    const shown = this.runs.filter((r) => (this.status === "" || r.status === this.status)
      && (this.filter === "" || `${r.name} ${r.status} ${gamesOf(r)}`.toLowerCase().includes(this.filter)));
    const sort = this.sort;
    const col = sort === null ? undefined : cols.find((c) => c.id === sort.id);
    if (sort !== null && col !== undefined) {
      shown.sort((a, b) => {
        const va = col.value(a);
        const vb = col.value(b);
        if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
        return compare(va, vb) * sort.dir;
      });
    }
    this.count.textContent = `${shown.length} of ${this.runs.length} run(s)`;
    const selected = this.options.selected;
    clear(this.table);
    this.table.append(
      h("thead", {}, h("tr", {}, this.options.interactive ? h("th", { title: "tick runs to overlay their plots" }, "") : null,
        ...cols.map((c) => {
          const mark = this.sort?.id === c.id ? (this.sort.dir === 1 ? " ▲" : " ▼") : "";
          const sortBy = (): void => {
            this.sort = this.sort?.id === c.id ? { id: c.id, dir: this.sort.dir === 1 ? -1 : 1 } : { id: c.id, dir: 1 };
            this.draw();
          };
          return h("th", { class: c.numeric === true ? "num" : "", ...(c.title === undefined ? {} : { title: c.title }),
            "aria-sort": this.sort?.id === c.id ? (this.sort.dir === 1 ? "ascending" : "descending") : "none" },
          h("button", { class: "sort", "data-testid": "sort", "data-col": c.id, click: sortBy }, c.label + mark));
        }),
        this.options.interactive ? h("th", {}, "Replays") : null)),
      h("tbody", {}, ...shown.map((r) => h("tr", { "data-testid": "run-row", "data-run": r.name },
        this.options.interactive && selected !== undefined
          ? h("td", {}, h("input", { type: "checkbox", "data-run": r.name, "aria-label": `overlay ${r.name}`, ...(selected.has(r.name) ? { checked: "" } : {}), change: (e: Event) => {
            if ((e.target as HTMLInputElement).checked) selected.add(r.name);
            else selected.delete(r.name);
            this.options.onSelect?.();
          } }))
          : null,
        ...cols.map((c) => h("td", { class: c.numeric === true ? "num" : "", "data-col": c.id }, c.cell?.(r) ?? String(c.value(r) ?? "–"))),
        this.options.interactive ? h("td", {}, h("a", { href: `#/games/${encodeURIComponent(r.name)}` }, "games")) : null))));
  }
}

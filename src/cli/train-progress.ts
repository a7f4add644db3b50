/**
 * What `spiral train` shows while it runs. On a terminal: one progress line, redrawn in place and
 * cut to the terminal's width by dropping its least important fields first, with evaluations and
 * notices printed above it. Elsewhere (a pipe, a log file, `--no-progress`): one plain line every
 * N steps, the first and the last step, and every evaluation. metrics.jsonl holds every number of
 * every step either way; this is only the view.
 *
 * The ETA comes from measured step times: the mean of the last steps' wall times (evaluations left
 * out, counted apart from the last one's duration), shown once a few steps were measured; the first
 * step, which warms the sessions up, is never counted.
 */
import cliProgress from "cli-progress";
import type { EvalMetrics, StepMetrics, TrainHooks } from "../rl/loop.js";
import type { CliIo } from "./io.js";
import { evalHeadline, formatPercent } from "../rl/eval-headline.js";

/** A piece of the progress line; `rank` 0 is kept longest, higher ranks are dropped first. */
export interface Field {
  readonly text: string;
  readonly rank: number;
  /** What joins it to the field before it (SEPARATOR unless given). */
  readonly joiner?: string;
}

export const SEPARATOR = " · ";

export function joinFields(fields: readonly Field[]): string {
  return fields.map((f, i) => (i === 0 ? "" : (f.joiner ?? SEPARATOR)) + f.text).join("");
}

/** "4.2s", "45s", "3m05s", "2h04m". */
export function formatDuration(seconds: number): string {
  if (seconds < 9.95) return `${Math.max(0, seconds).toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Three significant digits: 0.0123, 1.50, 1234, and small values as 2.34e-7. */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  return Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3);
}

export { evalHeadline, formatPercent, HEADLINE_LEGEND } from "../rl/eval-headline.js";

/** One evaluation as the fields of a log line. */
export function evalFields(e: EvalMetrics): Field[] {
  return [
    { text: `eval @${e.step} (${formatDuration(e.seconds)}):`, rank: 0 },
    ...Object.entries(evalHeadline(e)).map(([k, v], i) => ({ text: `${k} ${v}`, rank: 1, joiner: i === 0 ? " " : SEPARATOR })),
  ];
}

/** Fields on as many lines of at most `width` columns as they need, broken between fields. */
export function wrapFields(fields: readonly Field[], width: number, indent = "  "): string {
  const lines: string[] = [];
  let line = "";
  for (const f of fields) {
    const joined = line === "" ? f.text : line + (f.joiner ?? SEPARATOR) + f.text;
    if (line !== "" && joined.length > width) {
      lines.push(line);
      line = indent + f.text;
    } else {
      line = joined;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

/** The fields, in their order, that fit in `width` columns: the highest ranks go first. */
export function fitFields(fields: readonly Field[], width: number): Field[] {
  const kept = [...fields];
  while (kept.length > 1 && joinFields(kept).length > width) {
    const worst = kept.reduce((w, f, i) => (f.rank > (kept[w] as Field).rank ? i : w), 0);
    kept.splice(worst, 1);
  }
  return kept;
}

/** The fields of one step, in display order; `eta` and `live` (the last evaluation's headline) when known. */
export function stepFields(m: StepMetrics, total: number, eta: number | undefined, live: readonly Field[]): Field[] {
  return [
    { text: `step ${m.step}/${total}`, rank: 0 },
    ...(eta === undefined || m.step >= total ? [] : [{ text: `ETA ${formatDuration(eta)}`, rank: 1 }]),
    { text: `loss ${formatNumber(m.learner.loss)}`, rank: 2 },
    { text: `invalid ${formatPercent(m.invalidRate, 1)}`, rank: 3 },
    ...live,
    { text: `kl ${formatNumber(m.learner.approxKl)}`, rank: 7 },
    { text: `len ${m.replyLength.toFixed(1)}`, rank: 8 },
    { text: `${m.samplesPerSecond.toFixed(0)} samples/s`, rank: 9 },
    // precision fp16: the loss scale and the updates it skipped (overflow) this step.
    ...(m.learner.lossScale === undefined ? [] : [{ text: `scale ${m.learner.lossScale}${m.learner.skippedUpdates > 0 ? ` skipped ${m.learner.skippedUpdates}` : ""}`, rank: 8.5 }]),
    // Endpoint actors: servers live, staleness, transport failures this step.
    ...(m.endpoints === undefined
      ? []
      : [{ text: `actors ${m.endpoints.liveEndpoints}/${m.endpoints.utilisation.length} stale ${m.endpoints.staleness.mean.toFixed(2)} fails ${m.endpoints.transportFailures}`, rank: 6.5 }]),
  ];
}

/** The short form of an evaluation that rides on the progress line. */
export function liveFields(e: EvalMetrics): Field[] {
  const h = evalHeadline(e);
  return [
    { text: `TTT ${h["TTT/random"]}/${h["TTT/minimax"]}`, rank: 4 },
    { text: `Kuhn ε ${h["Kuhn ε"]}`, rank: 5 },
    { text: `Neg ${h["Neg/random"]}`, rank: 6 },
  ].filter((f) => !/–(\/–)?$/.test(f.text));
}

/** The bar's narrowest and widest inner size. */
const BAR_MIN = 10;
const BAR_MAX = 40;
/** The bar goes after the invalid rate, before the evaluation numbers (printed above the line anyway). */
const BAR_RANK = 3.5;

/** The TTY line: `fields` with a bar after the step counter, fitted to `width` (never longer). */
export function progressLine(fields: readonly Field[], value: number, total: number, width: number): string {
  const [first, ...rest] = fields;
  if (first === undefined) return "";
  const placeholder: Field = { text: `[${" ".repeat(BAR_MIN)}]`, rank: BAR_RANK, joiner: " " };
  const kept = fitFields([first, placeholder, ...rest], width);
  let line = joinFields(kept);
  if (kept.includes(placeholder)) {
    const size = Math.min(BAR_MAX, BAR_MIN + width - line.length);
    const done = total <= 0 ? size : Math.round((size * Math.min(Math.max(value, 0), total)) / total);
    line = joinFields(kept.map((f) => (f === placeholder ? { ...f, text: `[${"█".repeat(done)}${"░".repeat(size - done)}]` } : f)));
  }
  return line.length > width ? line.slice(0, Math.max(0, width)) : line;
}

/** The step interval of plain log lines: about 20 lines per run, a round number (1, 2, 5, 10, 20, 50, …). */
export function defaultLogEvery(steps: number): number {
  const target = steps / 20;
  for (let scale = 1; ; scale *= 10) {
    for (const m of [1, 2, 5]) if (m * scale >= target) return m * scale;
  }
}

/** Remaining time from measured step times; see the file comment. */
export class EtaEstimator {
  private readonly durations: number[] = [];
  private mark: number | undefined;
  private step: number;
  private evalSeconds: number | undefined;

  constructor(
    private readonly total: number,
    startStep: number,
    private readonly evalEvery: number,
    /** Steps measured before an ETA is given. */
    private readonly minSteps = 3,
    /** Steps in the moving average. */
    private readonly window = 20,
  ) {
    this.step = startStep;
  }

  /** Step `step` finished at `now` (seconds). */
  stepDone(step: number, now: number): void {
    if (this.mark !== undefined) {
      this.durations.push(now - this.mark);
      if (this.durations.length > this.window) this.durations.shift();
    }
    this.mark = now;
    this.step = step;
  }

  /** An evaluation of `seconds` finished at `now`: its time stays out of the step times. */
  evalDone(seconds: number, now: number): void {
    this.evalSeconds = seconds;
    if (this.mark !== undefined) this.mark = now;
  }

  /** Seconds left, or undefined until enough steps were measured. */
  eta(): number | undefined {
    if (this.durations.length < this.minSteps) return undefined;
    const perStep = this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
    let evals = 0;
    if (this.evalEvery > 0) for (let s = this.step + 1; s <= this.total; s++) if (s % this.evalEvery === 0 || s === this.total) evals++;
    return perStep * (this.total - this.step) + evals * (this.evalSeconds ?? 0);
  }
}

export interface TrainProgressOptions {
  readonly io: CliIo;
  readonly total: number;
  readonly startStep: number;
  readonly evalEvery: number;
  /** A redrawn line on this terminal stream; undefined: plain log lines through `io.err`. */
  readonly tty?: NodeJS.WriteStream;
  /** Plain mode: a step line every this many steps. */
  readonly logEvery: number;
  /** Seconds, monotonic (tests pass their own clock). */
  readonly now?: () => number;
}

export interface TrainProgress {
  readonly hooks: Required<Omit<TrainHooks, "onRollout">>;
  /** Evaluations seen so far, in order. */
  readonly evals: readonly EvalMetrics[];
  /** A line of text above the progress line (or a plain line). */
  log(message: string): void;
  /** Restores the terminal (idempotent). */
  stop(): void;
}

export function createTrainProgress(o: TrainProgressOptions): TrainProgress {
  const now = o.now ?? (() => performance.now() / 1000);
  const eta = new EtaEstimator(o.total, o.startStep, o.evalEvery);
  const evals: EvalMetrics[] = [];
  let live: Field[] = [];
  let lastMetrics: StepMetrics | undefined;
  let fields: Field[] = [{ text: `step ${o.startStep}/${o.total}`, rank: 0 }];

  const multi =
    o.tty === undefined
      ? undefined
      : new cliProgress.MultiBar({
          stream: o.tty,
          // Lines printed above the bar (evaluations, notices) are longer than a terminal is wide:
          // they wrap; the bar itself always fits. Redrawn on every tick, as printing a line
          // above it clears it.
          linewrap: true,
          forceRedraw: true,
          format: (_options, params) => progressLine(fields, params.value, params.total, (params.maxWidth ?? 80) - 1),
        });
  const bar = multi?.create(o.total, o.startStep);
  let stopped = false;

  const log = (message: string) => {
    if (multi === undefined || stopped) o.io.err(`${message}\n`);
    else multi.log(`${message}\n`);
  };

  return {
    evals,
    log,
    hooks: {
      onStep(m) {
        lastMetrics = m;
        eta.stepDone(m.step, now());
        fields = stepFields(m, o.total, eta.eta(), live);
        if (bar !== undefined) bar.update(m.step);
        else if (m.step % o.logEvery === 0 || m.step === o.total || m.step === o.startStep + 1) o.io.err(`${joinFields(fields)}\n`);
      },
      onEval(e) {
        evals.push(e);
        eta.evalDone(e.seconds, now());
        live = liveFields(e);
        if (lastMetrics !== undefined) fields = stepFields(lastMetrics, o.total, eta.eta(), live);
        const line = evalFields(e);
        log(multi === undefined ? joinFields(line) : wrapFields(line, (o.tty?.columns ?? 80) - 1));
      },
      log,
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi?.stop();
    },
  };
}

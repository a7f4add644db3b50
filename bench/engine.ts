/**
 * Training-step throughput of the ONNX engine, as a ratio against a plain ORT MatMul measured in
 * the same run and against eager PyTorch, and peak memory of one Qwen3-0.6B-shaped training step.
 *
 *   npm run bench:engine                 all three measurements, one round
 *   npm run bench:engine -- --step-only  only the `small` training step and the MatMul
 *   … --steps N                          time N steps back to back (default 3), each printed
 *   npm run bench:headline               the headline ratios: --headline --rounds 5 (see below)
 *   SPIRAL_THREADS=n                     intra-op threads for onnxruntime and torch (default: the
 *                                        trainer's, min(cores, 4))
 *
 * A training step is what the trainer's learner does per update: `LossRunner.lossAndGrad`, then
 * `clipGradNorm` and `AdamW.step` (the JS loop the trainer runs; the optimiser graph's time is shown
 * beside it). PyTorch (bench/engine.py) does forward + backward, clip_grad_norm_ and AdamW.
 *
 * Quiet or not: every figure is printed with the CPU that *other* processes used while it was
 * measured (from /proc: the machine's busy time minus this process's, its children's and the
 * PyTorch child's), in cores, and flagged when that reaches 0.1 core; the 1-minute load average
 * is printed too, but it counts the bench's own threads (two of them push it toward 2 on an idle
 * 2-core machine), so it does not decide. --headline alternates spiral, PyTorch and the MatMul
 * for N rounds (PyTorch in one long-lived child process, started once), reports the median of
 * each and says whether every round was quiet.
 *
 * Model FLOPs of a training step = 6·N·tokens (N = parameters used in matmuls, the LM head
 * included) + attention 12·B·T²·H·D·L (QKᵀ and PV, forward + 2× backward; the full T×T is
 * computed, causal masking does not skip work).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { createRng } from "../src/core/rng.js";
import type { ModelConfig } from "../src/engine/model/config.js";
import { Graph } from "../src/engine/graph/builder.js";
import * as op from "../src/engine/graph/ops/index.js";
import { GraphSession } from "../src/engine/graph/session.js";
import { LossRunner, type LossBatch } from "../src/engine/train/loss-runner.js";
import { AdamW, clipFactor, gradNorm } from "../src/engine/train/optimizer.js";
import { GraphAdamW } from "../src/engine/train/optimizer-graph.js";
import { trainerThreads } from "../src/rl/run-setup.js";
import { initParams, Params, paramLayout } from "../src/engine/weights/params.js";
import { modelPreset } from "../src/engine/model/presets.js";
import { trainingFlops } from "./flops.js";

const threads = trainerThreads(Number(process.env.SPIRAL_THREADS ?? 0) || 0);
/** Cores' worth of CPU that other processes may use during a measurement before it is flagged. */
const OTHERS_QUIET = 0.1;
/** Without /proc (not Linux) only the load average is left: flag at or above this. */
const LOAD_QUIET = 1.5;
const load = (): number => loadavg()[0] as number;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every common Linux build). */
const USER_HZ = ((): number => {
  const n = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** A process's CPU ticks (user + system; with `children`, also of its exited, reaped children); 0 once it is gone. */
function processTicks(pid: number | "self", children: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number); // f[0] is field 3 (state)
    const at = (i: number): number => f[i] ?? 0;
    return at(11) + at(12) + (children ? at(13) + at(14) : 0);
  } catch {
    return 0;
  }
}

interface CpuSample {
  /** performance.now() */
  readonly at: number;
  /** busy ticks of all cores (user, nice, system, irq, softirq; guests are inside user) */
  readonly busy: number;
  /** ticks the hypervisor gave to other guests while this one wanted to run */
  readonly steal: number;
  /** ticks of this process (every thread), its reaped children and `pids` */
  readonly ours: number;
}

/** The machine's CPU ticks from /proc/stat and ours; undefined where there is no /proc. */
function cpuSample(pids: readonly number[]): CpuSample | undefined {
  let line: string;
  try {
    line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  } catch {
    return undefined;
  }
  const v = line.trim().split(/\s+/).slice(1).map(Number); // user nice system idle iowait irq softirq steal …
  const at = (i: number): number => v[i] ?? 0;
  const ours = processTicks("self", true) + pids.reduce((sum, pid) => sum + processTicks(pid, false), 0);
  return { at: performance.now(), busy: at(0) + at(1) + at(2) + at(5) + at(6), steal: at(7), ours };
}

/** What a measurement window looked like from outside the bench. */
interface Disturbance {
  readonly load0: number;
  readonly load1: number;
  /** cores other processes kept busy on average (1 = one core all the time); undefined without /proc */
  readonly others: number | undefined;
  /** cores' worth of time stolen by the hypervisor; undefined without /proc */
  readonly steal: number | undefined;
}

/**
 * Starts watching; the returned function ends the window. `pids`: our child processes that are
 * still running (the PyTorch server); exited children are counted through our own stat.
 */
function watch(pids: readonly number[] = []): () => Disturbance {
  const load0 = load();
  const s0 = cpuSample(pids);
  return () => {
    const s1 = cpuSample(pids);
    const load1 = load();
    if (s0 === undefined || s1 === undefined) return { load0, load1, others: undefined, steal: undefined };
    const perSecond = USER_HZ * Math.max(1e-3, (s1.at - s0.at) / 1000);
    // A few ticks of accounting skew can make the difference slightly negative on an idle machine.
    return { load0, load1, others: Math.max(0, (s1.busy - s0.busy - (s1.ours - s0.ours)) / perSecond), steal: (s1.steal - s0.steal) / perSecond };
  };
}

function quiet(d: Disturbance): boolean {
  if (d.others === undefined) return Math.max(d.load0, d.load1) < LOAD_QUIET;
  return d.others < OTHERS_QUIET && (d.steal ?? 0) < OTHERS_QUIET;
}

/** "load 0.8 → 1.9, others 0.02 cores" and a flag unless quiet. */
function quietNote(d: Disturbance): string {
  const l = `load ${d.load0.toFixed(2)} → ${d.load1.toFixed(2)}`;
  if (d.others === undefined) return `${l}${quiet(d) ? "" : `  ⚠ load ≥ ${LOAD_QUIET} (no /proc to tell other processes from this one): not a quiet measurement`}`;
  const steal = (d.steal ?? 0) >= 0.01 ? `, stolen by the hypervisor ${(d.steal ?? 0).toFixed(2)}` : "";
  return `${l}, other processes ${d.others.toFixed(2)} cores${steal}${quiet(d) ? "" : `  ⚠ ≥ ${OTHERS_QUIET} core used by others: not a quiet measurement`}`;
}

/** A batch of random tokens, all real, with the second half of each row "generated". */
function randomBatch(c: ModelConfig, B: number, T: number, seed: string): LossBatch {
  const rng = createRng(seed);
  const tokens = Array.from({ length: B * T }, () => rng.int(c.vocabSize));
  const lossMask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = T / 2; t < T; t++) lossMask[b * T + t] = 1;
  return {
    B,
    T,
    tokens,
    attentionMask: new Float32Array(B * T).fill(1),
    lossMask,
    advantages: Float32Array.from({ length: B }, (_, i) => (i % 2 === 0 ? 1 : -1)),
  };
}

interface Timing {
  /** median wall seconds per call */
  readonly wall: number;
  /** median process CPU seconds per call (all threads): robust on a shared machine */
  readonly cpu: number;
}

/** Wall and process CPU seconds of one call. */
async function once(fn: () => Promise<unknown>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

interface Rates {
  readonly timing: Timing;
  /** GFLOP per wall second */
  readonly wall: number;
  /** GFLOP per CPU second (divide by the thread count for a per-core figure) */
  readonly cpu: number;
}

function rates(flop: number, t: Timing): Rates {
  return { timing: t, wall: flop / t.wall / 1e9, cpu: flop / t.cpu / 1e9 };
}

/**
 * The MatMul reference is a 3.2 GFLOP product (10–20 ms per call), so a few calls measure whatever
 * else ran in those milliseconds: in one round of a run, single calls ranged 30–340 GFLOP/s while
 * other processes used a core. Each measurement makes one warm-up call and MM_CALLS timed ones
 * (their fastest: the rate of one undisturbed call; their median), then calls it back to back for
 * as long as a training step took (at least MM_SUSTAIN_MIN s): the *sustained* rate, total FLOPs
 * over total wall time. The step is itself seconds of back-to-back GEMMs, so the sustained rate of
 * the same GEMM over the same duration is the like-for-like reference that step/MatMul is judged
 * against; the fastest call is printed beside it (bench/README.md, "Which MatMul rate").
 */
const MM_CALLS = 15;
const MM_SUSTAIN_MIN = 1;
const MM_NOTE = `sustained over a step's duration; fastest of ${MM_CALLS} single calls and the median call in brackets`;

interface MatMulRates {
  /** GFLOP/s of the fastest of MM_CALLS calls */
  readonly fastest: number;
  /** GFLOP/s of the median call */
  readonly median: number;
  /** GFLOP/s over back-to-back calls lasting `sustainSeconds` */
  readonly sustained: number;
  /** GFLOP per CPU second over the sustained calls */
  readonly sustainedCpu: number;
  readonly sustainSeconds: number;
}

/** A plain ORT MatMul [M, K] @ [K, N] in float32; `measure(s)` gives its rates now, sustained over ≥ s seconds (MM_NOTE). */
async function matmulBench(M: number, K: number, N: number): Promise<{ measure: (sustainSeconds: number) => Promise<MatMulRates>; release: () => Promise<void> }> {
  const g = new Graph("matmul");
  const a = g.input("a", "float32", [M, K]);
  const b = g.input("b", "float32", [K, N]);
  g.output(op.matmul(g, a, b), "y");
  const s = await GraphSession.fromGraph(g, { threads });
  const rng = createRng("mm");
  const feeds = {
    a: new ort.Tensor("float32", Float32Array.from({ length: M * K }, () => rng.normal()), [M, K]),
    b: new ort.Tensor("float32", Float32Array.from({ length: K * N }, () => rng.normal()), [K, N]),
  };
  const flop = 2 * M * K * N;
  return {
    measure: async (sustainSeconds) => {
      await s.run(feeds);
      const runs: Timing[] = [];
      for (let i = 0; i < MM_CALLS; i++) runs.push(await once(() => s.run(feeds)));
      const best = runs.reduce((x, y) => (y.wall < x.wall ? y : x));
      const target = Math.max(MM_SUSTAIN_MIN, sustainSeconds);
      let calls = 0;
      const sustained = await once(async () => {
        const t0 = performance.now();
        do {
          await s.run(feeds);
          calls++;
        } while ((performance.now() - t0) / 1000 < target);
      });
      return {
        fastest: flop / best.wall / 1e9,
        median: flop / median(runs.map((r) => r.wall)) / 1e9,
        sustained: (calls * flop) / sustained.wall / 1e9,
        sustainedCpu: (calls * flop) / sustained.cpu / 1e9,
        sustainSeconds: sustained.wall,
      };
    },
    release: () => s.release(),
  };
}

/** How the MatMul figures were measured. */
function mmNote(mm: MatMulRates): string {
  return `sustained over ${mm.sustainSeconds.toFixed(1)} s of back-to-back calls; fastest of ${MM_CALLS} single calls ${mm.fastest.toFixed(1)} GFLOP/s, median call ${mm.median.toFixed(1)} GFLOP/s`;
}

interface StepTiming {
  /** lossAndGrad */
  readonly grad: Timing;
  /** clipGradNorm + AdamW.step (the trainer's optimiser) */
  readonly optim: Timing;
}

/**
 * The trainer's learner update on the `small` preset: loss + gradients, then clip + AdamW in JS.
 * `graphOptim` times the optimiser graph (float32, its own copy of the state) on the same gradient.
 */
async function trainingStepBench(B: number, T: number) {
  const c = modelPreset("small");
  const params = initParams(c, createRng("bench"));
  const runner = new LossRunner(c, params, { threads });
  const batch = randomBatch(c, B, T, "bench-batch");
  const grads = new Float32Array(params.layout.totalSize);
  // lr 1e-4 as the default preset; the weights move a little each step, as in training.
  const adamw = new AdamW(params.data.length, { lr: 1e-4 });
  const graphParams = params.data.slice();
  const graphAdamW = await GraphAdamW.create(new AdamW(params.data.length, { lr: 1e-4 }), { session: { threads } });
  const step = async (): Promise<StepTiming> => {
    const grad = await once(() => runner.lossAndGrad(batch, { kind: "reinforce", normalizer: T / 2 }, grads));
    // As the learner does it: the clip applied as AdamW reads each gradient (clipGradNorm + step, one pass fewer).
    const optim = await once(async () => adamw.step(params.data, grads, undefined, clipFactor(gradNorm(grads), 1.0)));
    return { grad, optim };
  };
  await step(); // warm-up: session creation, memory planning
  await graphAdamW.step(graphParams, grads, 1.0);
  return {
    flops: trainingFlops(c, B, T),
    step,
    graphOptim: () => once(() => graphAdamW.step(graphParams, grads, 1.0)),
    release: async () => {
      await runner.release();
      await graphAdamW.release();
    },
  };
}

/** Child-process mode: one 0.6B-shaped training step at 1×256, prints peak RSS. */
async function memoryChild(): Promise<void> {
  const c = modelPreset("qwen3-0.6b");
  const params = new Params(paramLayout(c));
  const rng = createRng("mem");
  for (let i = 0; i < params.data.length; i += 7) params.data[i] = 0.02 * rng.normal();
  const memoryArena = !process.argv.includes("--no-arena");
  const runner = new LossRunner(c, params, { threads, memoryArena });
  const grads = new Float32Array(params.layout.totalSize);
  const batch = randomBatch(c, 1, 256, "mem-batch");
  const t0 = performance.now();
  const stats = await runner.lossAndGrad(batch, { kind: "reinforce", normalizer: 128 }, grads);
  const sec = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ peakRssBytes: peak, sec, loss: stats.loss, paramBytes: params.data.byteLength }));
}

const [B, T] = [8, 256];
const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(1)}%`;
const s3 = (x: number): string => x.toFixed(3);

interface TorchStep {
  readonly grad: number;
  readonly gradCpu: number;
  readonly optim: number;
  readonly optimCpu: number;
}

/** bench/engine.py --serve: one long-lived PyTorch process; `step()` times one training step. */
async function startTorch(): Promise<{ header: { torch: string; blas: string[] }; pid: number; step: () => Promise<TorchStep>; close: () => void } | string> {
  const child: ChildProcessWithoutNullStreams = spawn("/usr/bin/python3", [fileURLToPath(new URL("./engine.py", import.meta.url)), String(threads), "--serve"]);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown> | undefined> => {
    const r = await lines.next();
    return r.done ? undefined : (JSON.parse(r.value) as Record<string, unknown>);
  };
  const header = await next().catch(() => undefined);
  if (!header?.ready) {
    await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
    return stderr.trim().split("\n").pop() ?? `python exited with ${child.exitCode}`;
  }
  if (stderr.includes("WARNING")) console.log(`  ${stderr.trim()}`);
  return {
    header: header as unknown as { torch: string; blas: string[] },
    pid: child.pid as number,
    step: async () => {
      child.stdin.write("step\n");
      return (await next()) as unknown as TorchStep;
    },
    close: () => child.stdin.end(),
  };
}

/** One round of everything, printed as it goes (the default mode). */
async function singleRound(stepOnly: boolean, stepCount: number): Promise<void> {
  const small = modelPreset("small");
  const bench = await trainingStepBench(B, T);
  const stepWatch = watch();
  const steps: StepTiming[] = [];
  for (let i = 0; i < stepCount; i++) steps.push(await bench.step());
  const graphOptim = await bench.graphOptim();
  const stepQuiet = stepWatch();
  const [M, K, N] = [B * T, small.hiddenSize, small.intermediateSize];
  const mmBench = await matmulBench(M, K, N);
  const mmWatch = watch();
  const mm = await mmBench.measure(median(steps.map((st) => st.grad.wall + st.optim.wall)));
  const mmQuiet = mmWatch();
  await mmBench.release();
  const gradWall = median(steps.map((s) => s.grad.wall));
  const optimWall = median(steps.map((s) => s.optim.wall));
  const total = rates(bench.flops, { wall: median(steps.map((s) => s.grad.wall + s.optim.wall)), cpu: median(steps.map((s) => s.grad.cpu + s.optim.cpu)) });
  const gradOnly = rates(bench.flops, { wall: gradWall, cpu: median(steps.map((s) => s.grad.cpu)) });
  console.log(`small preset, ${B}×${T} tokens, REINFORCE loss + all parameter gradients + clip + AdamW (${(bench.flops / 1e9).toFixed(1)} GFLOP), median of ${stepCount} (${quietNote(stepQuiet)}):`);
  console.log(`  each step, in order: ${steps.map((st) => `${s3(st.grad.wall + st.optim.wall)} (${s3(st.grad.wall)} + ${s3(st.optim.wall)})`).join(", ")}`);
  console.log(`  step:   ${s3(total.timing.wall)} s wall (gradients ${s3(gradWall)} s, clip + AdamW ${s3(optimWall)} s; the optimiser graph ${s3(graphOptim.wall)} s), ${s3(total.timing.cpu)} CPU-s → ${total.wall.toFixed(1)} GFLOP/s`);
  console.log(`  MatMul [${M}×${K}]·[${K}×${N}]: ${mm.sustained.toFixed(1)} GFLOP/s, ${mm.sustainedCpu.toFixed(1)} GFLOP per CPU-s (${mmNote(mm)}; ${quietNote(mmQuiet)})`);
  console.log(`  ratio:  ${pct(total.wall, mm.sustained)} (wall, optimiser included), ${pct(gradOnly.wall, mm.sustained)} (gradients alone) of the sustained MatMul rate; ${pct(total.wall, mm.fastest)} of its fastest call`);
  await bench.release();
  if (stepOnly) return;
  const pyWatch = watch();
  const py = spawnSync("/usr/bin/python3", [fileURLToPath(new URL("./engine.py", import.meta.url)), String(threads)], { encoding: "utf8" });
  const line = py.stdout.trim().split("\n").pop() ?? "";
  if (py.status === 0 && line.startsWith("{")) {
    const t = JSON.parse(line) as { torch: string; secPerStep: number; cpuPerStep: number; gradSec: number; optimSec: number };
    if (py.stderr.includes("WARNING")) console.log(`  ${py.stderr.trim()}`);
    console.log(`  PyTorch ${t.torch} CPU, same model, batch and optimiser: ${s3(t.secPerStep)} s wall (gradients ${s3(t.gradSec)} s, clip + AdamW ${s3(t.optimSec)} s), ${s3(t.cpuPerStep)} CPU-s per step (${quietNote(pyWatch())})`);
    console.log(`  engine vs PyTorch: ${(t.secPerStep / total.timing.wall).toFixed(2)}× (wall), ${(t.cpuPerStep / total.timing.cpu).toFixed(2)}× (CPU time) faster, optimiser included`);
  } else {
    console.log(`  PyTorch comparison unavailable: ${py.stderr.trim().split("\n").pop() ?? `exit ${py.status}`}`);
  }
}

/** --headline: alternating rounds, medians, and whether the machine was quiet throughout. */
async function headline(rounds: number): Promise<void> {
  const small = modelPreset("small");
  const bench = await trainingStepBench(B, T);
  const [M, K, N] = [B * T, small.hiddenSize, small.intermediateSize];
  const mmBench = await matmulBench(M, K, N);
  const torch = await startTorch();
  if (typeof torch === "string") {
    console.log(`PyTorch reference unavailable: ${torch}`);
    process.exitCode = 1;
  }
  if (typeof torch !== "string") console.log(`PyTorch ${torch.header.torch}, BLAS ${torch.header.blas.join(", ")}`);
  // One unrecorded round: after a single warm-up step, the first recorded round still ran
  // 2.4–2.7× slower than the rest in two runs (spiral's step and its JS AdamW alike).
  await bench.step();
  await bench.graphOptim();
  if (typeof torch !== "string") await torch.step();
  await mmBench.measure(MM_SUSTAIN_MIN);
  const pids = typeof torch === "string" ? [] : [torch.pid];
  console.log(`${rounds} alternating rounds (spiral step, PyTorch step, MatMul); times in s wall, MatMul in GFLOP/s (${MM_NOTE});`);
  console.log(`"others": cores other processes used during the round (flagged ⚠ at ≥ ${OTHERS_QUIET}); the load average counts this bench's own threads`);
  console.log("round  load        others  spiral (grad + optim)     graph optim  PyTorch (grad + optim)    MatMul sustained (fastest, median)   ratio  step/MatMul (/fastest)");
  interface Round { spiral: number; spiralGrad: number; spiralOptim: number; graphOptim: number; torch: number; torchGrad: number; torchOptim: number; mm: MatMulRates; quiet: Disturbance }
  const rows: Round[] = [];
  for (let r = 1; r <= rounds; r++) {
    const round = watch(pids);
    const runSpiral = async () => ({ step: await bench.step(), graph: await bench.graphOptim() });
    const runTorch = async () => (typeof torch === "string" ? undefined : torch.step());
    // Alternate which engine goes first, so a slow phase of the neighbours hits both alike.
    let sp: Awaited<ReturnType<typeof runSpiral>>;
    let tp: TorchStep | undefined;
    if (r % 2 === 1) {
      sp = await runSpiral();
      tp = await runTorch();
    } else {
      tp = await runTorch();
      sp = await runSpiral();
    }
    const mm = await mmBench.measure(sp.step.grad.wall + sp.step.optim.wall);
    const row: Round = {
      spiral: sp.step.grad.wall + sp.step.optim.wall, spiralGrad: sp.step.grad.wall, spiralOptim: sp.step.optim.wall, graphOptim: sp.graph.wall,
      torch: tp ? tp.grad + tp.optim : Number.NaN, torchGrad: tp?.grad ?? Number.NaN, torchOptim: tp?.optim ?? Number.NaN,
      mm, quiet: round(),
    };
    rows.push(row);
    const stepRate = bench.flops / row.spiral / 1e9;
    const q = row.quiet;
    console.log(
      `${String(r).padStart(5)}  ${q.load0.toFixed(2)}→${q.load1.toFixed(2)}  ${(q.others === undefined ? "n/a" : q.others.toFixed(2)).padStart(6)}${quiet(q) ? " " : "⚠"}  ` +
        `${s3(row.spiral)} (${s3(row.spiralGrad)} + ${s3(row.spiralOptim)})  ${s3(row.graphOptim).padStart(11)}  ` +
        `${s3(row.torch)} (${s3(row.torchGrad)} + ${s3(row.torchOptim)})  ${`${mm.sustained.toFixed(1)} (${mm.fastest.toFixed(1)}, ${mm.median.toFixed(1)})`.padStart(34)}  ${(row.torch / row.spiral).toFixed(2).padStart(5)}×  ${`${pct(stepRate, mm.sustained)} (${pct(stepRate, mm.fastest)})`.padStart(22)}`,
    );
  }
  if (typeof torch !== "string") torch.close();
  await mmBench.release();
  await bench.release();
  const med = (f: (r: Round) => number): number => median(rows.map(f));
  const spiral = med((r) => r.spiral);
  const stepRate = bench.flops / spiral / 1e9;
  console.log(`median of ${rounds}: spiral ${s3(spiral)} s (gradients ${s3(med((r) => r.spiralGrad))}, clip + AdamW ${s3(med((r) => r.spiralOptim))}; optimiser graph ${s3(med((r) => r.graphOptim))}), ` +
    `PyTorch ${s3(med((r) => r.torch))} s (gradients ${s3(med((r) => r.torchGrad))}, clip + AdamW ${s3(med((r) => r.torchOptim))})`);
  console.log(`  spiral vs PyTorch, optimiser included: ${med((r) => r.torch / r.spiral).toFixed(2)}× faster (median of per-round ratios; goal ≥ 2×); gradients alone ${med((r) => r.torchGrad / r.spiralGrad).toFixed(2)}×`);
  const sustained = med((r) => r.mm.sustained);
  const fastest = med((r) => r.mm.fastest);
  console.log(`  trainer step (threads ${threads}, optimiser included): ${stepRate.toFixed(1)} GFLOP/s = ${pct(stepRate, sustained)} of the same-run sustained MatMul rate ${sustained.toFixed(1)} GFLOP/s (goal ≥ 80%); ` +
    `${pct(stepRate, fastest)} of its fastest single call (${fastest.toFixed(1)} GFLOP/s, median of the rounds' fastest)`);
  const loud = rows.filter((r) => !quiet(r.quiet)).length;
  const span = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  const loads = `load average ${span(rows.flatMap((r) => [r.quiet.load0, r.quiet.load1]))}, this bench's own threads included`;
  const verdict = loud === 0 ? "quiet: in every round" : `NOT QUIET: in ${loud} of ${rounds} rounds`;
  const tail = loud === 0 ? "" : " — not headline figures; rerun on an idle machine";
  if (rows[0]?.quiet.others === undefined) {
    console.log(`${verdict} the load average was ${loud === 0 ? "under" : "at or above"} ${LOAD_QUIET} (no /proc to tell other processes apart)${tail}`);
  } else {
    const steal = Math.max(...rows.map((r) => r.quiet.steal ?? 0));
    console.log(`${verdict} other processes used ${loud === 0 ? "under" : "at least"} ${OTHERS_QUIET} core (per round ${span(rows.map((r) => r.quiet.others ?? 0))} cores; ${loads}; hypervisor steal ≤ ${steal.toFixed(2)})${tail}`);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes("--memory-child")) return memoryChild();
  const ri = process.argv.indexOf("--rounds");
  const rounds = ri >= 0 ? Number(process.argv[ri + 1]) : 5;
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds expects an integer ≥ 1; got ${process.argv[ri + 1]}`);
  const before = watch();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  console.log(`spiral engine bench — onnxruntime-node ${ort.env.versions.common}, intra-op threads ${threads}; the 2 s before it: ${quietNote(before())}`);
  if (process.argv.includes("--headline")) {
    await headline(rounds);
    console.log(`load at the end ${load().toFixed(2)}`);
    return;
  }
  const stepOnly = process.argv.includes("--step-only");
  const si = process.argv.indexOf("--steps");
  const stepCount = si >= 0 ? Number(process.argv[si + 1]) : 3;
  if (!(Number.isInteger(stepCount) && stepCount >= 1)) throw new Error(`--steps expects an integer ≥ 1; got ${process.argv[si + 1]}`);
  await singleRound(stepOnly, stepCount);
  if (stepOnly) return;
  const script = fileURLToPath(import.meta.url);
  const gib = (n: number): string => (n / 2 ** 30).toFixed(2);
  console.log(`qwen3-0.6b shape, 1×256 tokens, one training step (first run, incl. session build), target ≤ 16 GiB:`);
  for (const arena of [true, false]) {
    const args = [...process.execArgv, script, "--memory-child", ...(arena ? [] : ["--no-arena"])];
    const memWatch = watch();
    const child = spawnSync(process.execPath, args, { encoding: "utf8", env: process.env });
    const line = child.stdout.trim().split("\n").pop() ?? "";
    if (child.status !== 0 || !line.startsWith("{")) {
      console.log(`  memory child failed (status ${child.status}): ${child.stderr.slice(-2000)}`);
      continue;
    }
    const mem = JSON.parse(line) as { peakRssBytes: number; sec: number; paramBytes: number };
    console.log(`  onnxruntime memory arena ${arena ? "on: " : "off:"} peak RSS ${gib(mem.peakRssBytes)} GiB (parameters ${gib(mem.paramBytes)} GiB, gradients the same), ${mem.sec.toFixed(1)} s (${quietNote(memWatch())})`);
  }
}

await main();

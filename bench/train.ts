/**
 * Throughput of the training loop for the default preset: samples/s, generated tokens/s and the
 * share of wall time spent acting vs learning, with K = 1 (actor in the learner's thread) and
 * K = 2 (worker-thread actors), measured in the same run.
 *
 *   npm run bench:train -- [--steps 10] [--actors 1,2] [--preset default] [--device cpu|webgpu]
 *
 * Each configuration runs `steps` policy steps (evaluation off) in a temporary run directory;
 * step 1 is reported separately (session creation, first-shape compilation) and the rest averaged.
 * Rates are wall-clock, so other load on the machine lowers them: compare K = 1 and K = 2 from one
 * run only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseDevice } from "../src/engine/graph/device.js";
import { resolveTrainConfig } from "../src/rl/config.js";
import { train, type StepMetrics } from "../src/rl/loop.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const steps = Number(arg("steps", "10"));
const device = parseDevice(arg("device", "cpu"));
// On webgpu a run has one actor (docs/device.md, "One device per process").
const actors = arg("actors", device === "webgpu" ? "1" : "1,2").split(",").map(Number);
const preset = arg("preset", "default");
const root = mkdtempSync(join(tmpdir(), "spiral-bench-train-"));

console.log(`bench/train: preset ${preset}, ${steps} steps per configuration, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}`);
console.log("K  step  samples/s  gen tok/s  act s  learn s  act share");
try {
  for (const k of actors) {
    const config = resolveTrainConfig(preset, { steps, actors: k, eval: { every: 0 }, checkpointEvery: 1_000_000, transcripts: 0, name: `k${k}`, device });
    const rows: StepMetrics[] = [];
    await train(config, { runDir: join(root, `k${k}`), hooks: { onStep: (m) => rows.push(m) } });
    const line = (label: string, ms: readonly StepMetrics[]) => {
      const act = ms.reduce((a, m) => a + m.actSeconds, 0);
      const learn = ms.reduce((a, m) => a + m.learnSeconds, 0);
      const samples = ms.reduce((a, m) => a + m.samples, 0);
      const tokens = ms.reduce((a, m) => a + m.generatedTokensPerSecond * m.actSeconds, 0);
      console.log(
        `${String(k).padEnd(2)} ${label.padEnd(5)} ${(samples / (act + learn)).toFixed(2).padStart(9)}  ${(tokens / act).toFixed(1).padStart(9)}  ` +
          `${(act / ms.length).toFixed(1).padStart(5)}  ${(learn / ms.length).toFixed(1).padStart(7)}  ${((100 * act) / (act + learn)).toFixed(0).padStart(8)}%`,
      );
    };
    line("1", rows.slice(0, 1));
    if (rows.length > 1) line(`2-${rows.length}`, rows.slice(1));
  }
  const end = loadavg()[0] ?? 0;
  console.log(`load at the end ${end.toFixed(1)}${end >= 1.5 ? " (≥ 1.5: a busy machine; compare K = 1 and K = 2 within this run only)" : ""}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

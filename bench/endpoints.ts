/**
 * Endpoint actors (docs/scale-out.md) against the in-process actor, in one run: the default
 * preset's training loop with its games played (a) in the learner's thread, (b) by 1 and (c) 2
 * `spiral serve` processes on loopback, synchronously, and (d) by 2 servers with maxStaleness 1.
 *
 *   npm run bench:endpoints -- [--steps 6] [--preset default] [--server-threads 1] [--batch N]
 *
 * Per configuration: samples per wall-clock second over steps 2..N (step 1 builds sessions), the
 * learner's idle share (waiting for games), each server's utilisation (time with a request of ours
 * in flight), and CPU use: CPU-seconds of the learner process and of the servers per wall second
 * (on 2 cores, 2.0 is everything).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { saveCheckpoint } from "../src/engine/weights/checkpoint.js";
import { initParams } from "../src/engine/weights/params.js";
import { createRng } from "../src/core/rng.js";
import { resolveTrainConfig } from "../src/rl/config.js";
import { train, type StepMetrics } from "../src/rl/loop.js";
import { presetShape } from "../src/rl/validate.js";
import { startServeProcess, type ServeProcess } from "../src/serve/process.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const steps = Number(arg("steps", "6"));
const preset = arg("preset", "default");
const serverThreads = arg("server-threads", "1");
const batch = process.argv.includes("--batch") ? { rolloutBatch: Number(arg("batch", "128")) } : {};
const root = mkdtempSync(join(tmpdir(), "spiral-bench-endpoints-"));
const TICK = 100; // clock ticks per second of /proc/<pid>/stat (USER_HZ)

/** CPU-seconds a process has used (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}
const selfCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Case {
  readonly label: string;
  readonly servers: number;
  readonly maxStaleness: number;
}
const cases: Case[] = [
  { label: "in-process", servers: 0, maxStaleness: 0 },
  { label: "1 endpoint", servers: 1, maxStaleness: 0 },
  { label: "2 endpoints", servers: 2, maxStaleness: 0 },
  { label: "2 endpoints, K=1", servers: 2, maxStaleness: 1 },
];

const base = resolveTrainConfig(preset, batch);
const shape = presetShape(base.model);
const served = join(root, "served");
await saveCheckpoint(served, { config: shape, params: initParams(shape, createRng("bench"), 0.02) });

console.log(`bench/endpoints: preset ${preset} (${base.rolloutBatch} samples/step, envs ${base.envs}), ${steps} steps per case, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}, servers --threads ${serverThreads}`);
console.log("case               samples/s  learner idle  server util     learner CPU/s  servers CPU/s  transport fails");
try {
  for (const c of cases) {
    const servers: ServeProcess[] = await Promise.all(
      Array.from({ length: c.servers }, () => startServeProcess(["--model", served, "--port", "0", "--runtime-updates", "--quiet", "--threads", serverThreads])),
    );
    try {
      const config = resolveTrainConfig(preset, {
        ...batch, steps, actors: c.servers === 0 ? 1 : 0, eval: { every: 0 }, checkpointEvery: 1_000_000, transcripts: 0, name: c.label.replace(/\W+/g, "-"),
        ...(c.servers === 0 ? {} : { endpoints: servers.map((s) => ({ url: s.url, concurrency: Math.ceil(base.envs / c.servers) })), maxStaleness: c.maxStaleness }),
      });
      const rows: { m: StepMetrics; at: number; self: number; srv: number }[] = [];
      const srvCpu = () => servers.reduce((a, s) => a + cpuSeconds(s.child.pid as number), 0);
      await train(config, {
        runDir: join(root, config.name),
        hooks: { onStep: (m) => rows.push({ m, at: performance.now(), self: selfCpu(), srv: srvCpu() }) },
      });
      const first = rows[0];
      const last = rows.at(-1);
      if (first === undefined || last === undefined || rows.length < 2) throw new Error("need at least 2 steps");
      const later = rows.slice(1);
      const wall = (last.at - first.at) / 1000;
      const samples = later.reduce((a, r) => a + r.m.samples, 0);
      const idle = later.reduce((a, r) => a + (r.m.endpoints?.learnerIdleSeconds ?? r.m.actSeconds), 0);
      const util = c.servers === 0 ? "-" : servers.map((_, i) => (later.reduce((a, r) => a + (r.m.endpoints?.utilisation[i] ?? 0), 0) / later.length).toFixed(2)).join("/");
      const fails = later.reduce((a, r) => a + (r.m.endpoints?.transportFailures ?? 0), 0);
      console.log(
        `${c.label.padEnd(18)} ${(samples / wall).toFixed(1).padStart(9)}  ${`${((100 * idle) / wall).toFixed(0)}%`.padStart(12)}  ${util.padStart(11)}  ` +
          `${((last.self - first.self) / wall).toFixed(2).padStart(15)}  ${((last.srv - first.srv) / wall).toFixed(2).padStart(13)}  ${String(fails).padStart(15)}`,
      );
    } finally {
      await Promise.all(servers.map((s) => s.stop("SIGKILL")));
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

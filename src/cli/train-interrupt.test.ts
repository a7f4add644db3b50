/**
 * Ctrl-C during `spiral train`, with real signals to a real process: the first one finishes the
 * step, saves a checkpoint and says how to resume, and the resumed run ends where the
 * uninterrupted one does; a second one quits at once.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HEARTBEAT_FILE, type Heartbeat } from "../rl/heartbeat.js";
import { train } from "../rl/loop.js";
import { readMetrics } from "../rl/run-dir.js";
import { scriptedIo } from "./io.js";
import { resolveRun, runTrain } from "./train.js";
import { withoutTimings as strip, TINY_TEST_MODEL } from "../rl/test-metrics.js";

const root = mkdtempSync(join(tmpdir(), "spiral-train-interrupt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));


function configFile(name: string, config: object): string {
  const path = join(root, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Written on stderr by the child once a SIGINT listener is in place (until then a SIGINT kills it). */
const HANDLER_READY = "test: SIGINT listener installed";

/**
 * `spiral train ARGS` from the sources (tsx), as its own process; `onLine` sees each stderr line.
 * The child says HANDLER_READY on stderr once its Ctrl-C handler listens (the listener is added in
 * the same turn as 'newListener' fires, so by the next tick it is there).
 */
function spawnTrain(args: string[], onLine: (line: string, child: ReturnType<typeof spawn>) => void, guardMs: number) {
  const ready = `process.on("newListener", (event) => { if (event === "SIGINT") process.nextTick(() => process.stderr.write(${JSON.stringify(`${HANDLER_READY}\n`)})); });`;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", `${ready}\nimport { main } from "./src/cli/main.js"; await main(["node", "spiral", "train", ...${JSON.stringify(args)}]);`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  let partial = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line, child);
  });
  // A child the test failed to stop does not outlive the test.
  const guard = setTimeout(() => child.kill("SIGKILL"), guardMs);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => {
    clearTimeout(guard);
    resolve({ code, stdout, stderr });
  }));
}


const heartbeat = (dir: string) => JSON.parse(readFileSync(join(dir, HEARTBEAT_FILE), "utf8")) as Heartbeat;

describe("Ctrl-C during spiral train", () => {
  it("finishes the step, saves a checkpoint, says how to resume, and --resume ends as the uninterrupted run", async () => {
    const file = configFile("resume", {
      games: [{ id: "TicTacToe-v0" }, { id: "KuhnPoker-v1-1round" }], rolloutBatch: 4, envs: 4, maxNewTokens: 8, threads: 1, actors: 1,
      model: TINY_TEST_MODEL, eval: { every: 4, games: 2, kuhn: false }, checkpointEvery: 100, steps: 24,
    });
    const dir = join(root, "interrupted");
    let signalled = false;
    const run = await spawnTrain(["--config", file, "--out", root, "--name", "interrupted", "--no-progress", "--log-every", "1"], (line, child) => {
      if (!signalled && line.startsWith("step 3/24")) {
        signalled = true;
        child.kill("SIGINT");
      }
    }, 170_000);
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("stopping: the step under way finishes, then a checkpoint is saved (press Ctrl-C again to quit at once)");
    const stopped = Number(/interrupted after step (\d+) of 24/.exec(run.stdout)?.[1]);
    expect(stopped).toBeGreaterThanOrEqual(3);
    expect(stopped).toBeLessThan(24);
    expect(run.stdout).toContain(`; checkpoint ${join(dir, `step-${stopped}`)} saved.\nContinue with: npx spiral train --resume ${dir}\n`);
    expect(existsSync(join(dir, `step-${stopped}`, "model.safetensors"))).toBe(true);
    expect(heartbeat(dir)).toMatchObject({ state: "interrupted", step: stopped, totalSteps: 24 });
    const metrics = await readMetrics(dir);
    expect(metrics.filter((m) => m.kind === "step").at(-1)?.step).toBe(stopped);

    const io = scriptedIo([]);
    const resumed = await runTrain({ resume: dir, progress: false }, io);
    expect(resumed.interrupted).toBe(false);
    expect(io.stderr()).toContain(`resume: from step-${stopped} `);
    expect(heartbeat(dir)).toMatchObject({ state: "finished", step: 24 });

    // The same run without a Ctrl-C: same metrics (but timings), same final weights.
    const { config } = await resolveRun({ config: file, out: root, name: "straight" });
    await train(config, { runDir: join(root, "straight") });
    expect(strip(await readMetrics(dir))).toEqual(strip(await readMetrics(join(root, "straight"))));
    expect(readFileSync(join(dir, "step-24", "model.safetensors")).equals(readFileSync(join(root, "straight", "step-24", "model.safetensors")))).toBe(true);
  }, 180_000);

  it("a second Ctrl-C quits at once", async () => {
    // A first evaluation ten times longer than both signals need (the process quits in it, so its
    // length costs nothing): both signals land in it, however fast the machine.
    const file = configFile("quit", {
      games: [{ id: "TicTacToe-v0" }], rolloutBatch: 4, envs: 4, maxNewTokens: 8, threads: 1, actors: 1,
      model: TINY_TEST_MODEL, eval: { every: 10, games: 4000, kuhn: true }, steps: 10,
    });
    const dir = join(root, "quit");
    // The first press once the handler listens; the second only after the first was handled: a busy
    // event loop handles two queued signals back to back, and presses closer than the echo window
    // (250 ms, on the child's clock from before it wrote "stopping:") count as one.
    let sent = 0;
    const run = await spawnTrain(["--config", file, "--out", root, "--name", "quit", "--no-progress"], (line, child) => {
      if (sent === 0 && line === HANDLER_READY) {
        sent = 1;
        child.kill("SIGINT");
      } else if (sent === 1 && line.startsWith("stopping:")) {
        sent = 2;
        setTimeout(() => child.kill("SIGINT"), 500);
      }
    }, 55_000);
    expect(run.code).toBe(130);
    expect(run.stderr).toContain(`quitting at once; the last saved checkpoint is kept. Continue with: npx spiral train --resume ${dir}`);
    expect(run.stderr).not.toMatch(/eval @0|step 1\//);
    expect(heartbeat(dir)).toMatchObject({ state: "interrupted", step: 0 });
  }, 60_000);
});

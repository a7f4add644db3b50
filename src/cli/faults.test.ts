/**
 * The fault suite, part 1: every command run as a real process with bad input exits 1 with one
 * line on stderr saying what is wrong (no stack trace, no native abort), and leaves no file behind.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { writeSafetensors } from "../engine/weights/safetensors.js";
import { createRng } from "../core/rng.js";

interface Ran {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI from sources (tsx) through `runCli`, as bin/spiral.js runs it. */
function cli(args: readonly string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", `import { runCli } from "./src/cli/main.js"; await runCli(["node", "spiral", ...${JSON.stringify(args)}]);`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

const root = mkdtempSync(join(tmpdir(), "spiral-faults-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const R = (...parts: string[]) => join(root, ...parts);

const small = { ...modelPreset("micro"), hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 8 };

beforeAll(async () => {
  // A run directory with two checkpoints, a checkpoint without config.json, one without tokenizer.
  writeFileSync(R("run-config.json"), "{}");
  mkdirSync(R("run"));
  writeFileSync(R("run", "config.json"), JSON.stringify({ name: "run", games: [{ id: "TicTacToe-v0", weight: 1 }], model: { preset: "micro", tokenizer: "byte" } }));
  for (const step of [1, 2]) await saveCheckpoint(R("run", `step-${step}`), { config: small, params: initParams(small, createRng(step), 0.02) });
  mkdirSync(R("no-config"));
  await writeSafetensors(R("no-config", "model.safetensors"), [{ name: "x", shape: [1], data: new Float32Array(1) }]);
  const wide = { ...small, vocabSize: 300 };
  await saveCheckpoint(R("no-tokenizer"), { config: wide, params: initParams(wide, createRng(3), 0.02) });
  writeFileSync(R("bad-override.json"), JSON.stringify({ model: { overrides: { hiddenSzie: 8 } } }));
  mkdirSync(R("bad-run"));
  writeFileSync(R("bad-run", "config.json"), '{"steps": 3,');
});

interface Case {
  readonly args: readonly string[];
  readonly message: RegExp;
  /** Paths that must not exist afterwards (nothing created by a failed start). */
  readonly absent?: readonly string[];
}

const cases = (): Record<string, Case> => ({
  "train: unknown game (used to abort natively in worker threads)": {
    args: ["train", "--games", "Foo-v0", "--steps", "1", "--out", R("runs"), "--name", "foo"], message: /^spiral: games: Unknown game "Foo-v0"\. Known games: TicTacToe-v0/, absent: [R("runs")],
  },
  "train: unknown model preset": { args: ["train", "--init", "gigantic", "--out", R("runs"), "--name", "g"], message: /Unknown model preset "gigantic"; expected one of: micro/, absent: [R("runs")] },
  "train: missing --model": { args: ["train", "--model", R("nope"), "--out", R("runs"), "--name", "m"], message: /^spiral: model\.dir \(--model\) .*nope: no such directory$/, absent: [R("runs")] },
  "train: a run directory as --model": {
    args: ["train", "--model", R("run"), "--out", R("runs"), "--name", "m"], message: /is a training run directory, not a checkpoint; its latest checkpoint is .*step-2/, absent: [R("runs")],
  },
  "train: an opponent that does not play a training game": {
    args: ["train", "--opponent", "minimax", "--games", "KuhnPoker-v1", "--out", R("runs"), "--name", "k"], message: /^spiral: opponent: No reference agent "minimax" for KuhnPoker-v1/, absent: [R("runs")],
  },
  "train: unknown opponent": { args: ["train", "--opponent", "bogus", "--out", R("runs"), "--name", "o"], message: /^spiral: opponent: Unknown policy "bogus"/, absent: [R("runs")] },
  "train: unknown shape override": {
    args: ["train", "--config", R("bad-override.json"), "--out", R("runs"), "--name", "s"], message: /^spiral: model\.overrides: unknown key "hiddenSzie"/, absent: [R("runs")],
  },
  "train: --name with a path": { args: ["train", "--name", "../elsewhere", "--out", R("runs")], message: /^spiral: --name expects a folder name under --out/, absent: [R("runs"), R("elsewhere")] },
  "train: unknown preset": { args: ["train", "--preset", "nope"], message: /^spiral: unknown train preset "nope"; expected one of: default, chat-smoke, chat-lora, paper$/ },
  "train: not an integer": { args: ["train", "--steps", "many"], message: /^spiral: --steps expects an integer; got "many"$/ },
  "train: --resume of a directory without a run": { args: ["train", "--resume", R("nope")], message: /^spiral: Expected a run directory with config\.json; got .*nope$/, absent: [R("nope")] },
  "train: --resume-from without --resume": { args: ["train", "--resume-from", "step-2"], message: /^spiral: --resume-from names a checkpoint of the run given by --resume DIR/ },
  "train: --resume of a run whose newest checkpoint is incomplete": {
    args: ["train", "--resume", R("run")], message: /^spiral: checkpoint step-2 of .*run is damaged: it has no optimizer\.safetensors, so the run cannot continue exactly\. Nothing was changed; to resume from an earlier one: spiral train --resume .*run --resume-from step-1 /,
  },
  "train: --resume of a run whose config.json is not JSON": { args: ["train", "--resume", R("bad-run")], message: /^spiral: .*bad-run.config\.json: the run's config is not valid JSON/ },
  "train: --resume-from a checkpoint the run lacks": { args: ["train", "--resume", R("run"), "--resume-from", "step-9"], message: /^spiral: --resume-from step-9: .* has no step-9; its checkpoints: step-1, step-2$/ },
  "games: unknown option": { args: ["games", "--bogus"], message: /^error: unknown option '--bogus'$/ },
  "play: unknown game": { args: ["play", "--game", "Foo-v0"], message: /^spiral: Unknown game "Foo-v0"/ },
  "play: unknown player": { args: ["play", "--game", "TicTacToe-v0", "--p0", "bogus"], message: /^spiral: Unknown player "bogus" for TicTacToe-v0\. Valid players: human, random, minimax, optimal\.$/ },
  "play: --record in a missing folder": { args: ["play", "--game", "TicTacToe-v0", "--p0", "random", "--record", R("nope", "game.json")], message: /^spiral: --record .*game\.json: the folder .*nope does not exist/, absent: [R("nope")] },
  "replay: missing record": { args: ["replay", "--record", R("nope.json")], message: /^spiral: Cannot read the record .*nope\.json: ENOENT/ },
  "generate: missing --model": { args: ["generate", "--model", R("nope"), "--prompt", "hi"], message: /^spiral: --model .*nope: no such directory$/ },
  "generate: a run directory": { args: ["generate", "--model", R("run"), "--prompt", "hi"], message: /^spiral: --model .*run: is a training run directory, not a checkpoint; its latest checkpoint is .*run\/step-2 / },
  "generate: no config.json": { args: ["generate", "--model", R("no-config"), "--prompt", "hi"], message: /^spiral: --model .*no-config: has weights but no config\.json/ },
  "generate: no tokenizer": { args: ["generate", "--model", R("no-tokenizer"), "--prompt", "hi"], message: /^spiral: --model .*no-tokenizer: has no tokenizer: no tokenizer\.json, and its vocab_size 300 is not the byte-level 264/ },
  "eval: unknown game": { args: ["eval", "--game", "Foo-v0", "--a", "random", "--b", "random", "--out", R("eval-out")], message: /^spiral: Unknown game "Foo-v0"/, absent: [R("eval-out")] },
  "eval: unknown policy": { args: ["eval", "--game", "TicTacToe-v0", "--a", "bogus", "--b", "random", "--out", R("eval-out")], message: /^spiral: Unknown policy "bogus"/, absent: [R("eval-out")] },
  "eval: a run directory as a policy": {
    args: ["eval", "--game", "TicTacToe-v0", "--a", R("run"), "--b", "random", "--out", R("eval-out")], message: /^spiral: checkpoint .*run: is a training run directory, not a checkpoint; its latest checkpoint is/, absent: [R("eval-out")],
  },
  "serve: a run directory": { args: ["serve", "--model", R("run"), "--port", "0"], message: /^spiral: --model .*run: is a training run directory, not a checkpoint; its latest checkpoint is .*step-2/ },
  "serve: a file": { args: ["serve", "--model", R("run-config.json"), "--port", "0"], message: /^spiral: --model .*run-config\.json: is a file; expected a checkpoint directory/ },
  "serve: bad port": { args: ["serve", "--model", R("run", "step-2"), "--port", "70000"], message: /^spiral: --port expects an integer in \[0, 65535\]; got "70000"$/ },
  "bench-math: a game agent": { args: ["bench-math", "--model", "random", "--data", R("x.jsonl")], message: /^spiral: bench-math needs a model: a checkpoint directory or openai:<base-url>#<model>; got the game agent "random"$/ },
  "merge: --out onto a checkpoint": {
    args: ["merge", "--model", R("run", "step-1"), "--adapter", R("run", "step-2"), "--out", R("run", "step-2")], message: /^spiral: --out .*step-2: the folder holds files \(.*\) that the merged checkpoint would replace; give a new or empty folder$/,
  },
  "dashboard: missing runs directory": { args: ["dashboard", R("nope"), "--port", "0"], message: /^spiral: runs directory .*nope: no such directory/ },
  "report: missing run": { args: ["report", R("nope"), "--out", R("report.html")], message: /^spiral: Expected a run directory with config\.json or metrics\.jsonl; got .*nope$/, absent: [R("report.html")] },
});

describe("bad input to every command, as a real process", () => {
  it("exits 1 with one line saying what is wrong, creates nothing and loses nothing", async () => {
    const all = Object.entries(cases());
    const runBefore = readdirSync(R("run")).sort();
    const results: [string, Case, Ran][] = [];
    // Four at a time: each is a node process with the TypeScript loader.
    for (let i = 0; i < all.length; i += 4) {
      const batch = all.slice(i, i + 4);
      results.push(...(await Promise.all(batch.map(async ([name, c]) => [name, c, await cli(c.args)] as [string, Case, Ran]))));
    }
    const problems: string[] = [];
    for (const [name, c, ran] of results) {
      // A resumed run announces itself before it opens its checkpoint.
      const lines = ran.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("resuming "));
      const wrong = [
        ran.signal !== null || ran.status !== 1 ? `exit ${ran.status ?? ran.signal}` : "",
        lines.length !== 1 ? `${lines.length} lines on stderr` : "",
        !c.message.test(lines[0] ?? "") ? "message" : "",
        /^\s+at |terminate called|Napi::Error/m.test(ran.stderr) ? "stack trace or native abort" : "",
        ...(c.absent ?? []).filter((p) => existsSync(p)).map((p) => `created ${p}`),
      ].filter((x) => x !== "");
      if (wrong.length > 0) problems.push(`${name}: ${wrong.join(", ")}: ${JSON.stringify(ran.stderr)}`);
    }
    expect(problems).toEqual([]);
    // The run directory the commands were pointed at is as it was.
    expect(readdirSync(R("run")).sort()).toEqual(runBefore);
    expect(readdirSync(R("run", "step-2")).sort()).toEqual(["config.json", "model.safetensors", "spiral-manifest.json"]);
  }, 600_000);
});

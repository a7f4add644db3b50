import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { benchMathCommand } from "./bench-math.js";
import { exportCommand } from "./export.js";
import { scriptedIo } from "./io.js";
import { mergeCommand } from "./merge.js";
import { playCommand } from "./play.js";
import { reportCommand } from "./report.js";

/**
 * An output path that cannot be written is refused before the work that fills it: a game played,
 * a benchmark run or an export done would otherwise be lost to a typo in the path.
 */
describe("output files are checked before the work", () => {
  const root = mkdtempSync(join(tmpdir(), "spiral-out-paths-"));
  const missing = join(root, "no-such-folder");

  it("spiral play --record: refused before the game starts", async () => {
    const io = scriptedIo([]);
    const args = ["--game", "TicTacToe-v0", "--p0", "random", "--p1", "random", "--seed", "1", "--record", join(missing, "game.json")];
    await expect(playCommand(io).parseAsync(args, { from: "user" })).rejects.toThrow(`--record ${join(missing, "game.json")}: the folder ${missing} does not exist`);
    expect(io.stdout()).toBe("");
  });

  it("spiral bench-math --out and --items: refused before the model is opened", async () => {
    const data = join(root, "math500.jsonl");
    writeFileSync(data, `${JSON.stringify({ problem: "1+1?", answer: "2" })}\n`);
    const run = (extra: string[]) => benchMathCommand(scriptedIo([])).parseAsync(["--model", join(root, "no-model"), "--data", data, ...extra], { from: "user" });
    await expect(run(["--out", join(missing, "r.json")])).rejects.toThrow(/^--out .*: the folder .* does not exist/);
    await expect(run(["--items", root])).rejects.toThrow(`--items ${root}: is a folder; expected a file name`);
  });

  it("spiral export --gguf and spiral report --out: refused before anything is read", async () => {
    await expect(exportCommand(scriptedIo([])).parseAsync(["--model", join(root, "no-model"), "--gguf", join(missing, "m.gguf")], { from: "user" })).rejects.toThrow(/^--gguf .*: the folder .* does not exist/);
    await expect(reportCommand(scriptedIo([])).parseAsync([join(root, "no-run"), "--out", join(missing, "r.html")], { from: "user" })).rejects.toThrow(/^--out .*: the folder .* does not exist/);
    expect(readdirSync(root)).toEqual(["math500.jsonl"]);
  });

  it("export and merge say what a training run directory given as --model is, as generate does", async () => {
    const run = join(root, "run");
    mkdirSync(join(run, "step-5"), { recursive: true });
    writeFileSync(join(run, "config.json"), JSON.stringify({ name: "run", model: { preset: "micro" } }));
    writeFileSync(join(run, "step-5", "config.json"), "{}");
    const expected = `--model ${run}: is a training run directory, not a checkpoint; its latest checkpoint is ${join(run, "step-5")}`;
    await expect(exportCommand(scriptedIo([])).parseAsync(["--model", run, "--gguf", join(root, "m.gguf")], { from: "user" })).rejects.toThrow(expected);
    await expect(mergeCommand(scriptedIo([])).parseAsync(["--model", run, "--adapter", join(root, "a"), "--out", join(root, "merged")], { from: "user" })).rejects.toThrow(expected);
  });
});

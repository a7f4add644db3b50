import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { createRng } from "../core/rng.js";
import { evalCommand, parseEvalOptions, type EvalResult } from "./eval.js";
import { scriptedIo } from "./io.js";

async function run(args: string[]): Promise<{ out: string; err: string }> {
  const io = scriptedIo([]);
  await evalCommand(io).parseAsync(args, { from: "user" });
  return { out: io.stdout(), err: io.stderr() };
}

describe("spiral eval", () => {
  let root: string;
  let tiny: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "spiral-eval-"));
    tiny = join(root, "tiny");
    const config = modelPreset("tiny");
    await saveCheckpoint(tiny, { config, params: initParams(config, createRng(1), 0.1) });
  });

  it("plays A against B, prints Wilson intervals and per-side rates, and writes the transcript", async () => {
    const out = join(root, "match");
    const { out: text } = await run(["--game", "TicTacToe-v0", "--a", "optimal", "--b", "random", "--games", "20", "--seed", "1", "--out", out]);
    expect(text).toMatch(/TicTacToe-v0: A = optimal vs B = random: 20 games played, 0 lost to transport failures/);
    expect(text).toMatch(/loss\s+0\.0% \[0\.0, 16\.1\]/); // Wilson upper bound for 0 of 20
    expect(text).toMatch(/A's W\/D\/L as seat 0: \d+\/\d+\/0, as seat 1: \d+\/\d+\/0/);
    const lines = readFileSync(join(out, "games.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(20);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ gameId: "TicTacToe-v0", index: expect.any(Number), aSeat: expect.any(Number) });
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as EvalResult;
    expect(summary.kind).toBe("match");
  });

  it("plays a checkpoint (compact prompts, constrained decoding, batched) without invalid moves", async () => {
    const { out } = await run(["--game", "TicTacToe-v0", "--a", tiny, "--b", "random", "--games", "6", "--json", "--max-new", "8"]);
    const r = JSON.parse(out) as Extract<EvalResult, { kind: "match" }>;
    expect(r.report.outcomes.wins + r.report.outcomes.draws + r.report.outcomes.losses).toBe(6);
    expect(r.report.sides[0].invalid).toBe(0);
    expect(r.report.sides[0].replyTokens / r.report.sides[0].tokenReplies).toBe(3);
  });

  it("self-play of one checkpoint plays both seats from one loaded model", async () => {
    const { out } = await run(["--game", "KuhnPoker-v1-1round", "--a", tiny, "--b", tiny, "--games", "8", "--json", "--max-new", "8"]);
    const r = JSON.parse(out) as Extract<EvalResult, { kind: "match" }>;
    expect(r.report.outcomes.wins + r.report.outcomes.draws + r.report.outcomes.losses).toBe(8);
    expect(r.report.sides[0].invalid + r.report.sides[1].invalid).toBe(0);
    expect(r.report.sides[0].decisions).toBeGreaterThanOrEqual(8);
    expect(r.report.sides[1].decisions).toBeGreaterThanOrEqual(8);
  });

  it("reports games an unreachable endpoint voided, with the reason, and fails unless --allow-failures", async () => {
    const args = ["--game", "TicTacToe-v0", "--a", "openai:http://127.0.0.1:9/v1#none", "--b", "random", "--games", "4", "--retries", "0", "--out", join(root, "voided")];
    const io = scriptedIo([]);
    await expect(evalCommand(io).parseAsync(args, { from: "user" })).rejects.toThrow(
      /^4 of 4 games were lost to transport failures \(first: http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions: .*\); the results above count only the 0 played\. .*--allow-failures/,
    );
    // The report is printed and written before the command fails: nothing is lost.
    expect(io.stdout()).toMatch(/0 games played, 4 lost to transport failures \(not counted\)/);
    expect(io.stdout()).toMatch(/first transport failure: http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions: /);
    expect((JSON.parse(readFileSync(join(root, "voided", "summary.json"), "utf8")) as Extract<EvalResult, { kind: "match" }>).report.transportFailures).toBe(4);
    const { out } = await run([...args, "--allow-failures"]);
    expect(out).toMatch(/0 games played, 4 lost to transport failures/);
  });

  it("runs a round robin and ranks the perfect Nim player first", async () => {
    const { out } = await run(["--game", "Nim-v0", "--tournament", "optimal", "random", "random", "--games", "20", "--json"]);
    const r = JSON.parse(out) as Extract<EvalResult, { kind: "tournament" }>;
    expect(r.pairs).toHaveLength(3);
    const best = r.ratings.reduce((a, b) => (a.elo > b.elo ? a : b));
    expect(best.player).toBe(0);
    expect(best.low).toBeGreaterThan(0);
    const pooled = JSON.parse((await run(["--game", "Nim-v0,TicTacToe-v0", "--tournament", "optimal", "random", "--games", "10", "--json"])).out) as Extract<EvalResult, { kind: "tournament" }>;
    expect(pooled.pairs.map((p) => p.gameId)).toEqual(["Nim-v0", "TicTacToe-v0"]);
    await expect(run(["--game", "Nim-v0,TicTacToe-v0", "--a", "random", "--b", "random"])).rejects.toThrow(/--game takes one id here/);
    const text = (await run(["--game", "Nim-v0", "--tournament", "optimal", "random", "--games", "10"])).out;
    expect(text).toMatch(/rank\s+player\s+Elo\s+95% interval\s+W\/D\/L/);
    expect(text).toMatch(/1\s+optimal/);
  });

  it("prints the exact analyses: Kuhn exploitability table and TicTacToe optimal-move rate", async () => {
    const kuhn = (await run(["--game", "KuhnPoker-v1-1round", "--a", tiny, "--exact", "--max-new", "8"])).out;
    expect(kuhn).toMatch(/exploitability of .*tiny: 0\.\d{4} \(uniform 0\.4583, Nash 0; exact probabilities\)/);
    expect(kuhn.match(/^[JQK]:\S*\s/gm)).toHaveLength(12);
    const ttt = (await run(["--game", "TicTacToe-v0", "--a", "optimal", "--exact"])).out;
    expect(ttt).toMatch(/optimal-move rate of optimal: 100\.0% over 4520 positions/);
    const sampled = (await run(["--game", "TicTacToe-v0", "--a", tiny, "--exact", "--positions", "40", "--max-new", "8"])).out;
    expect(sampled).toMatch(/optimal-move rate of .*tiny: \d+\.\d% over 40 positions \(.*exact probabilities\)/);
  });

  it("rejects contradictory or bad options with what was expected", () => {
    const base = { game: "TicTacToe-v0", games: "4", temperature: "0.6", seed: "0", maxNew: "8", concurrency: "4", timeout: "120", retries: "4" };
    expect(() => parseEvalOptions({ ...base, a: "random", b: "random", samples: "4" })).toThrow("--samples tunes the exact analyses: it needs --exact");
    expect(() => parseEvalOptions({ ...base, a: "random", b: "random", positions: "4" })).toThrow("--positions tunes the exact analyses: it needs --exact");
    expect(parseEvalOptions({ ...base, a: "random", exact: true }).samples).toBe(64);
    expect(parseEvalOptions({ ...base, a: "random", exact: true, samples: "4", positions: "9" })).toMatchObject({ samples: 4, positions: 9 });
    expect(() => parseEvalOptions({ ...base, a: "random" })).toThrow(/Give exactly one of/);
    expect(() => parseEvalOptions({ ...base, a: "random", b: "random", games: "0" })).toThrow(/--games expects an integer ≥ 1/);
    expect(() => parseEvalOptions({ ...base, tournament: ["random"] })).toThrow(/at least two policy specs/);
    expect(() => parseEvalOptions({ ...base, a: "random", b: "random", topP: "2" })).toThrow(/--top-p expects a number in \(0, 1\]/);
    expect(() => parseEvalOptions({ ...base, a: "random", b: "random", retries: "-1" })).toThrow(/--retries expects an integer ≥ 0/);
  });

  it("refuses --out naming a file before any game is played", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cli-eval-out-")), "taken.json");
    writeFileSync(file, "{}\n");
    await expect(run(["--game", "TicTacToe-v0", "--a", "random", "--b", "random", "--games", "2", "--out", file])).rejects.toThrow(`--out ${file}: is a file; expected a folder for games.jsonl and summary.json`);
    expect(readFileSync(file, "utf8")).toBe("{}\n");
  });

  it("names the accepted spec forms for an unknown policy", async () => {
    await expect(run(["--game", "TicTacToe-v0", "--a", "alphazero", "--b", "random"])).rejects.toThrow(/Unknown policy "alphazero".*openai:<base-url>#<model>/);
    await expect(run(["--game", "TicTacToe-v0", "--a", "openai:localhost#x", "--b", "random"])).rejects.toThrow(/Expected openai:<base-url>#<model>/);
  });
});

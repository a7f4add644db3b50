import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultSweepName, gridFromFlags, parseSeedsFlag, parseVaryFlag, planSweep, readGridFile } from "./grid.js";

const root = mkdtempSync(join(tmpdir(), "spiral-sweep-grid-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("sweep grid from flags", () => {
  it("expands presets × varied keys × seeds into train configs under sweeps/<name>/<cell>/seed-<s>", () => {
    const grid = gridFromFlags(undefined, { seeds: "3", vary: ["opponent=self,random", "rae=on,off"], steps: "20", out: root });
    const plan = planSweep(grid, defaultSweepName(grid));
    expect(plan.name).toBe("default-opponent-rae");
    expect(plan.cells.map((c) => c.name)).toEqual(["opponent=self_rae=on", "opponent=self_rae=off", "opponent=random_rae=on", "opponent=random_rae=off"]);
    const run = plan.cells[3]?.runs[2];
    expect(run?.dir).toBe(join(root, "default-opponent-rae", "opponent=random_rae=off", "seed-2"));
    // The trainer's own fields: run dir = out/name, the seed, the varied keys, the rest from the preset.
    expect([run?.config.out, run?.config.name, run?.config.seed, run?.config.opponent, run?.config.rae.enabled, run?.config.steps]).toEqual([
      join(root, "default-opponent-rae", "opponent=random_rae=off"), "seed-2", 2, "random", false, 20,
    ]);
    expect(run?.config.optim.lr).toBe(1e-4);
    expect(plan.cells[0]?.settings).toEqual({ opponent: "self", rae: true });
  });

  it("types flag values like the config key they set, dotted paths and flag names alike", () => {
    const plan = planSweep(gridFromFlags(undefined, { seeds: "0,4", vary: ["optim.lr=1e-4,2e-4", "model.overrides.hiddenSize=16"], out: root }), "x");
    expect(plan.seeds).toEqual([0, 4]);
    expect(plan.cells.map((c) => c.runs[0]?.config.optim.lr)).toEqual([1e-4, 2e-4]);
    expect(plan.cells[0]?.runs[1]?.config.model.overrides).toEqual({ hiddenSize: 16 });
    // The preset's other optimiser settings survive a varied optim key.
    expect(plan.cells[0]?.runs[0]?.config.optim.lrSchedule).toBe("cosine");
    expect(planSweep(gridFromFlags(undefined, { vary: ["lr=0.001"], out: root }), "x").cells[0]?.runs[0]?.config.optim.lr).toBe(0.001);
    expect(parseSeedsFlag("10")).toBe(10);
    expect(parseVaryFlag("opponent = self, random")).toEqual(["opponent", ["self", "random"]]);
  });

  it("names a bad key or value before anything starts", () => {
    const plan = (vary: string[], extra: Record<string, string> = {}) => planSweep(gridFromFlags(undefined, { vary, out: root, ...extra }), "x");
    expect(() => plan(["opponnent=self"])).toThrow(/vary opponnent: not a train config key/);
    expect(() => plan(["rae=maybe"])).toThrow(/vary rae: expected on\/off/);
    expect(() => plan(["optim.lr=fast"])).toThrow(/vary optim\.lr: expected a number; got "fast"/);
    expect(() => plan(["optim.lr=-1"])).toThrow(/config optim\.lr=-1: invalid train config: optim\.lr/);
    // Values the schema accepts but a run would only reject later.
    expect(() => plan(["opponent=minimax"])).toThrow(/opponent=minimax: opponent: No reference agent "minimax" for KuhnPoker-v1-1round/);
    expect(() => plan(["opponent=perfect"])).toThrow(/opponent=perfect: opponent: Unknown policy "perfect"/);
    expect(() => plan(["init=huge"])).toThrow(/init=huge: Unknown model preset "huge"/);
    expect(() => plan(["seed=1,2"])).toThrow(/vary seed: a sweep sets seed itself \(use seeds\)/);
    expect(() => plan(["opponent=self,self"])).toThrow(/listed twice/);
    expect(() => plan(["opponent"])).toThrow(/--vary expects key=value1,value2/);
    expect(() => plan([], { seeds: "0,0" })).toThrow(/each seed once/);
    expect(() => plan([], { parallel: "0" })).toThrow(/--parallel expects a positive integer/);
    expect(() => plan([], { preset: "fast" })).toThrow(/unknown train preset "fast"/);
  });
});

describe("sweep grid files", () => {
  it("reads YAML with named configs crossed with vary, game lists and targets", () => {
    const file = join(root, "ablation.yaml");
    writeFileSync(file, [
      "preset: default",
      "seeds: [1, 2]",
      "base: { steps: 10 }",
      "configs:",
      "  - { name: mix }",
      "  - { name: ttt, games: [{ id: TicTacToe-v0 }] }",
      "vary:",
      "  rae: [on, off]",
      "targets:",
      "  - { metric: 'TicTacToe-v0 vs random: non-loss', op: '>=', value: 0.9 }",
    ].join("\n"));
    const grid = gridFromFlags(readGridFile(file), { out: root });
    const plan = planSweep(grid, defaultSweepName(grid, file));
    expect(plan.name).toBe("ablation");
    expect(plan.cells.map((c) => c.name)).toEqual(["mix_rae=on", "mix_rae=off", "ttt_rae=on", "ttt_rae=off"]);
    expect(plan.cells[2]?.runs[0]?.config.games).toEqual([{ id: "TicTacToe-v0", weight: 1 }]);
    expect(plan.cells[0]?.runs[0]?.config.games.length).toBe(3);
    expect(plan.cells[2]?.settings).toEqual({ config: "ttt", rae: true });
    expect(grid.targets?.[0]?.op).toBe(">=");

    writeFileSync(file, "vary:\n  games: ['TicTacToe-v0', 'TicTacToe-v0,KuhnPoker-v1-1round:2']\n");
    const games = planSweep(gridFromFlags(readGridFile(file), { out: root }), "g");
    expect(games.cells.map((c) => c.name)).toEqual(["games=TicTacToe-v0", "games=TicTacToe-v0+KuhnPoker-v1-1roundx2"]);
    expect(games.cells[1]?.runs[0]?.config.games).toEqual([{ id: "TicTacToe-v0", weight: 1 }, { id: "KuhnPoker-v1-1round", weight: 2 }]);
  });

  it("refuses unknown grid keys and reserved config keys, naming them", () => {
    const file = join(root, "bad.json");
    writeFileSync(file, JSON.stringify({ seed: 3 }));
    expect(() => gridFromFlags(readGridFile(file), {})).toThrow(/invalid sweep grid: grid: unknown key: "seed"/);
    writeFileSync(file, JSON.stringify({ base: { seed: 3 } }));
    expect(() => planSweep(gridFromFlags(readGridFile(file), {}), "b")).toThrow(/base\.seed: a sweep sets seed itself/);
    writeFileSync(file, JSON.stringify({ base: { stepz: 3 } }));
    expect(() => planSweep(gridFromFlags(readGridFile(file), {}), "b")).toThrow(/sweep base config .*unknown key: "stepz"/);
    writeFileSync(file, JSON.stringify({ configs: [{ games: [] }] }));
    expect(() => planSweep(gridFromFlags(readGridFile(file), {}), "b")).toThrow(/configs\[0\]\.name: expected a name/);
    writeFileSync(file, JSON.stringify({ targets: [{ metric: "TicTacToe vs random: nonloss", op: ">=", value: 0.9 }] }));
    expect(() => planSweep(gridFromFlags(readGridFile(file), {}), "b")).toThrow(/targets\[0\]\.metric: no final metric "TicTacToe vs random: nonloss"; expected one of: TicTacToe-v0 vs random: win/);
    writeFileSync(file, JSON.stringify({ targets: [{ metric: "TicTacToe-v0 vs random: non-loss", op: "=>", value: 0.9 }] }));
    expect(() => gridFromFlags(readGridFile(file), {})).toThrow(/grid targets\.0\.op/);
    writeFileSync(file, "[1, 2]");
    expect(() => readGridFile(file)).toThrow(/expected a mapping of grid keys/);
    expect(() => readGridFile(join(root, "missing.yaml"))).toThrow(/could not read/);
  });
});

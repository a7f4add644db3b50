import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseGrid } from "../sweep/grid.js";
import { SWEEP_STATE_FILE } from "../sweep/run.js";
import { scriptedIo } from "./io.js";
import { runSweepCommand } from "./sweep.js";

describe("spiral sweep --name NAME without a grid", () => {
  // A sweep planned as 2 configs × 2 seeds; no run has been trained (nothing here trains).
  const out = mkdtempSync(join(tmpdir(), "cli-sweep-"));
  const dir = join(out, "t");
  mkdirSync(dir);
  const grid = parseGrid({ name: "t", out, preset: "default", base: { steps: 1 }, seeds: 2, vary: { rae: ["on", "off"] } });
  writeFileSync(join(dir, SWEEP_STATE_FILE), JSON.stringify({ format: "spiral.sweep/1", name: "t", grid, runs: [] }));

  it("--dry-run lists the runs of the grid the sweep was planned with, not the default grid", async () => {
    const io = scriptedIo([]);
    await runSweepCommand(undefined, { name: "t", out, dryRun: true }, io);
    expect(io.stdout()).toMatch(/^sweep t in \S+: 2 configs × 2 seeds = 4 runs/);
    expect(io.stdout()).toMatch(/^to run +\S+\/t\/rae=off\/seed-1 +\(1 step\)$/m);
  });

  it("--aggregate-only refuses a grid none of whose runs exist instead of overwriting the aggregate with an empty one", async () => {
    await expect(runSweepCommand(undefined, { name: "t", out, aggregateOnly: true }, scriptedIo([]))).rejects.toThrow(
      `--aggregate-only: none of the 4 runs this grid plans exists under ${dir} (rae=on, rae=off); give the grid file or flags the sweep was run with`,
    );
    await expect(runSweepCommand(undefined, { name: "t", out, seeds: "3", aggregateOnly: true }, scriptedIo([]))).rejects.toThrow(/none of the 3 runs this grid plans exists/);
    expect(existsSync(join(dir, "aggregate.md"))).toBe(false);
  });
});

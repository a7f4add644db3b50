import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeRun } from "../dashboard/test-runs.js";
import { scriptedIo } from "./io.js";
import { reportCommand } from "./report.js";

describe("spiral report", () => {
  it("refuses a checkpoint directory (its config.json is a model's), naming the run it belongs to", async () => {
    const root = mkdtempSync(join(tmpdir(), "cli-report-"));
    const run = writeRun(root, "r", 2);
    const checkpoint = join(run, "step-2");
    mkdirSync(checkpoint);
    writeFileSync(join(checkpoint, "config.json"), JSON.stringify({ vocab_size: 264, hidden_size: 8 }));
    writeFileSync(join(checkpoint, "model.safetensors"), "");
    const report = (dir: string) => reportCommand(scriptedIo([])).parseAsync([dir, "--out", join(root, "r.html")], { from: "user" });
    await expect(report(checkpoint)).rejects.toThrow(`${checkpoint} is a checkpoint, not a run directory: give the run it belongs to, ${run}`);
    await expect(report(run)).resolves.toBeDefined();
  });
});

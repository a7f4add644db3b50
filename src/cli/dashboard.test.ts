import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeRun } from "../dashboard/test-runs.js";
import { dashboardCommand, runDashboard } from "./dashboard.js";
import { scriptedIo } from "./io.js";

describe("spiral dashboard", () => {
  it("serves the runs directory on loopback and says where", async () => {
    const root = mkdtempSync(join(tmpdir(), "cli-dash-"));
    writeRun(root, "r", 2);
    const io = scriptedIo([]);
    const dashboard = await runDashboard({ root, port: 0, host: "127.0.0.1" }, io);
    try {
      expect(io.stdout()).toMatch(/^spiral dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(runs in /);
      const body = (await (await fetch(new URL("/api/runs", dashboard.url))).json()) as { runs: { name: string }[] };
      expect(body.runs.map((r) => r.name)).toEqual(["r"]);
    } finally {
      await dashboard.close();
    }
  });

  it("rejects a port out of range", async () => {
    const command = dashboardCommand(scriptedIo([])).exitOverride();
    await expect(command.parseAsync(["node", "dashboard", "runs", "--port", "70000"])).rejects.toThrow('--port expects an integer in [0, 65535]; got "70000"');
  });

  it("says a port in use is in use, naming --port", async () => {
    const root = mkdtempSync(join(tmpdir(), "cli-dash-"));
    const first = await runDashboard({ root, port: 0, host: "127.0.0.1" }, scriptedIo([]));
    try {
      const port = Number(new URL(first.url).port);
      await expect(runDashboard({ root, port, host: "127.0.0.1" }, scriptedIo([]))).rejects.toThrow(`--port ${port}: 127.0.0.1:${port} is already in use (another server?); pick another port, or 0 for a free one`);
    } finally {
      await first.close();
    }
  });

  it("refuses a run directory given as the runs directory, naming its parent", async () => {
    const root = mkdtempSync(join(tmpdir(), "cli-dash-"));
    const run = writeRun(root, "r", 2);
    const command = dashboardCommand(scriptedIo([])).exitOverride();
    await expect(command.parseAsync(["node", "dashboard", run, "--port", "0"])).rejects.toThrow(`runs directory ${run}: is a run directory itself; give the directory holding it: spiral dashboard ${root}`);
  });
});

import { appendFileSync, mkdtempSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inferStatus, isRunName, listRuns, parseMetrics, readMetricsFrom, readRun } from "./run-reader.js";
import { writeRun } from "./test-runs.js";

describe("parseMetrics", () => {
  it("skips malformed lines with a notice naming the line, and leaves a torn last line unread", () => {
    const text = '{"kind":"step","step":1}\nnot json\n[1,2]\n{"kind":"step"}\n{"kind":"eval","step":1}\n{"kind":"st';
    const chunk = parseMetrics(text);
    expect(chunk.lines.map((l) => `${l.kind}@${l.step}`)).toEqual(["step@1", "eval@1"]);
    expect(chunk.notices).toHaveLength(3);
    expect(chunk.notices[0]).toMatch(/^metrics\.jsonl line 2: skipped, not JSON/);
    expect(chunk.notices[1]).toMatch(/line 3: skipped, expected a JSON object/);
    expect(chunk.notices[2]).toMatch(/line 4: skipped, expected a numeric "step"/);
    expect(chunk.next).toBe(text.lastIndexOf("\n") + 1);
    expect(chunk.nextLine).toBe(6);
  });

  it("counts bytes, not characters, so a tail resumes exactly after multi-byte text", () => {
    const text = '{"kind":"step","step":1,"note":"→ é"}\n';
    expect(parseMetrics(text).next).toBe(Buffer.byteLength(text));
  });
});

describe("run directories", () => {
  it("tails appended lines from the returned offset, completing a torn line once it is whole", async () => {
    const root = mkdtempSync(join(tmpdir(), "dash-reader-"));
    const dir = writeRun(root, "a", 3, { torn: true });
    const first = await readMetricsFrom(dir);
    expect(first.lines.filter((l) => l.kind === "step").map((l) => l.step)).toEqual([1, 2, 3]);
    expect(first.notices).toEqual([expect.stringMatching(/line 4: skipped, not JSON/)]);
    appendFileSync(join(dir, "metrics.jsonl"), 'Rate":0}\n{"kind":"step","step":100}\n');
    const tail = await readMetricsFrom(dir, first.next, first.nextLine);
    expect(tail.lines.map((l) => l.step)).toEqual([99, 100]);
    expect(tail.notices).toEqual([]);
  });

  it("summarises runs with status, steps and latest figures, newest first", async () => {
    const root = mkdtempSync(join(tmpdir(), "dash-reader-"));
    writeRun(root, "done", 4);
    const live = writeRun(root, "live", 3, { total: 10, torn: true });
    const old = writeRun(root, "dead", 2, { total: 10 });
    const longAgo = Date.now() / 1000 - 7200;
    utimesSync(join(old, "metrics.jsonl"), longAgo, longAgo);
    utimesSync(join(old, "config.json"), longAgo, longAgo);
    const runs = await listRuns(root);
    expect(runs.map((r) => r.name).sort()).toEqual(["dead", "done", "live"]);
    expect(runs[runs.length - 1]?.name).toBe("dead");
    const byName = Object.fromEntries(runs.map((r) => [r.name, r]));
    expect(byName.done?.status).toBe("finished");
    expect(byName.live?.status).toBe("running");
    expect(byName.dead?.status).toBe("crashed");
    expect(byName.live?.step).toBe(3);
    expect(byName.live?.notices).toHaveLength(1);
    expect(byName.done?.latestEval?.step).toBe(4);
    expect((byName.done?.latestStep?.learner as { loss: number }).loss).toBeCloseTo(0.25, 12);
    expect(await readRun(join(live, "transcripts"), "x")).toBeNull();
  });

  it("infers status from the step reached and the last write", () => {
    expect(inferStatus(5, 5, 0, 1e6, 600)).toBe("finished");
    expect(inferStatus(5, 4, 1e6 - 10, 1e6, 600)).toBe("running");
    expect(inferStatus(5, 4, 1e6 - 601, 1e6, 600)).toBe("crashed");
    expect(inferStatus(null, null, 1e6, 1e6, 600)).toBe("running");
  });

  it("accepts only single path segments as run names", () => {
    expect(isRunName("run-1")).toBe(true);
    for (const bad of ["", ".", "..", "a/b", "a\\b"]) expect(isRunName(bad)).toBe(false);
  });

  it("lists nothing for a missing root", async () => {
    expect(await listRuns(join(tmpdir(), "no-such-dashboard-root"))).toEqual([]);
  });
});

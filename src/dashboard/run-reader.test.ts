import { appendFileSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { heartbeatStatus, inferStatus, isRunName, listRuns, parseMetrics, pidAlive, readHeartbeat, readMetricsFrom, readRun, secondsPerStep, type Heartbeat } from "./run-reader.js";
import { stepLine, writeCheckpoint, writeHeartbeat, writeRun } from "./test-runs.js";

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
    // One "now" for the files' times and the reader: a clock read twice could be a second apart.
    const now = Date.now() / 1000;
    const longAgo = now - 7200;
    utimesSync(join(old, "metrics.jsonl"), longAgo, longAgo);
    utimesSync(join(old, "config.json"), longAgo, longAgo);
    const runs = await listRuns(root, { now });
    expect(runs.map((r) => r.name).sort()).toEqual(["dead", "done", "live"]);
    expect(runs[runs.length - 1]?.name).toBe("dead");
    const byName = Object.fromEntries(runs.map((r) => [r.name, r]));
    expect(byName.done?.status).toBe("finished");
    expect(byName.live?.status).toBe("running");
    expect(byName.dead?.status).toBe("stopped");
    expect(byName.dead?.statusDetail).toMatch(/no heartbeat\.json; last write 7200 s ago/);
    expect(byName.live?.step).toBe(3);
    expect(byName.live?.notices).toHaveLength(1);
    expect(byName.done?.latestEval?.step).toBe(4);
    expect((byName.done?.latestStep?.learner as { loss: number }).loss).toBeCloseTo(0.25, 12);
    expect(await readRun(join(live, "transcripts"), "x")).toBeNull();
  });

  it("infers status from the step reached and the last write", () => {
    expect(inferStatus(5, 5, 0, 1e6, 600)).toBe("finished");
    expect(inferStatus(5, 4, 1e6 - 10, 1e6, 600)).toBe("running");
    expect(inferStatus(5, 4, 1e6 - 601, 1e6, 600)).toBe("stopped");
    expect(inferStatus(null, null, 1e6, 1e6, 600)).toBe("running");
  });

  it("reads the status from heartbeat.json: a dead pid or a stale heartbeat is a crash, a final state is kept", async () => {
    const root = mkdtempSync(join(tmpdir(), "dash-beat-"));
    const host = "test-host";
    const cases: [string, Parameters<typeof writeHeartbeat>[1], string, RegExp][] = [
      ["live", { pid: process.pid, hostname: host, step: 3, totalSteps: 10, state: "running", ageSeconds: 5 }, "running", /^pid \d+ on this host, heartbeat 5 s ago$/],
      ["killed", { pid: 2 ** 22 + 12345, hostname: host, step: 3, totalSteps: 10, state: "running", ageSeconds: 5 }, "crashed", /is no longer running \(killed or crashed at step 3\)/],
      ["stale", { pid: 77, hostname: "other-host", step: 3, totalSteps: 10, state: "running", ageSeconds: 61 }, "crashed", /no heartbeat for 61 s from pid 77 on other-host/],
      ["remote", { pid: 77, hostname: "other-host", step: 3, totalSteps: 10, state: "running", ageSeconds: 59 }, "running", /on other-host/],
      ["ctrl-c", { pid: 77, hostname: host, step: 3, totalSteps: 10, state: "interrupted", ageSeconds: 3600, startedSecondsAgo: 4000 }, "interrupted", /--resume/],
      ["failed", { pid: 77, hostname: host, step: 3, totalSteps: 10, state: "failed" }, "crashed", /failed at step 3/],
      ["done", { pid: 77, hostname: host, step: 10, totalSteps: 10, state: "finished", ageSeconds: 3600 }, "finished", /finished at step 10 of 10/],
    ];
    // One "now" for the heartbeats' times and the reader: "5 s ago" must not read as 6 on a slow machine.
    const now = Date.now();
    for (const [name, beat] of cases) writeHeartbeat(writeRun(root, name, 3, { total: 10 }), beat, now);
    const runs = Object.fromEntries((await listRuns(root, { host, alive: pidAlive, now: now / 1000 })).map((r) => [r.name, r]));
    for (const [name, , status, detail] of cases) {
      expect(runs[name]?.status, name).toBe(status);
      expect(runs[name]?.statusDetail, name).toMatch(detail);
    }
    // Heartbeat times: started 600 s ago; a running run lasts until now.
    expect(runs.live?.startedAt).toBeCloseTo(now / 1000 - 600, 6);
    expect(runs.live?.durationSeconds).toBeCloseTo(600, 6);
    // A stopped run lasted from its start to its last heartbeat, not to the files' times.
    expect(runs["ctrl-c"]?.durationSeconds).toBeCloseTo(400, 6);
    expect(runs["ctrl-c"]?.etaSeconds).toBeNull();
    // 7 steps left at 4 s per step: act 2 s + learn 1 s per step, plus one 3 s eval (step 2) over 3 steps.
    expect(runs.live?.secondsPerStep).toBeCloseTo(4, 12);
    expect(runs.live?.etaSeconds).toBeCloseTo(28, 12);
  });

  it("ignores a heartbeat of the wrong shape and falls back to inference", async () => {
    const root = mkdtempSync(join(tmpdir(), "dash-beat-"));
    const dir = writeRun(root, "r", 2, { total: 10 });
    writeFileSync(join(dir, "heartbeat.json"), '{"pid":"x"}');
    expect(await readHeartbeat(dir)).toBeNull();
    expect((await readRun(dir, "r"))?.status).toBe("running");
  });

  it("decides a heartbeat's status from its age and pid alone (pure)", () => {
    const beat: Heartbeat = { pid: 5, hostname: "h", startedAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:10:00Z", step: 4, totalSteps: 9, state: "running" };
    const now = Date.parse("2026-01-01T00:10:00Z") / 1000;
    expect(heartbeatStatus(beat, { now: now + 60, host: "h", alive: () => true }).status).toBe("running");
    expect(heartbeatStatus(beat, { now: now + 60.5, host: "h", alive: () => true }).status).toBe("crashed");
    expect(heartbeatStatus(beat, { now, host: "h", alive: () => false }).status).toBe("crashed");
    // Another host's pid cannot be checked here: only the age counts.
    expect(heartbeatStatus(beat, { now, host: "elsewhere", alive: () => false }).status).toBe("running");
  });

  it("measures seconds per step over the last steps, evaluation included", () => {
    const lines = [1, 2, 3, 4].map((s) => stepLine(s) as never);
    expect(secondsPerStep(lines, 2)).toBeCloseTo(3, 12);
    expect(secondsPerStep([])).toBeNull();
  });

  it("lists complete checkpoints only", async () => {
    const root = mkdtempSync(join(tmpdir(), "dash-ckpt-"));
    const dir = writeRun(root, "r", 2);
    writeCheckpoint(dir, 100);
    writeCheckpoint(dir, 20);
    mkdirSync(join(dir, "step-300")); // no manifest: still being written
    expect((await readRun(dir, "r"))?.checkpoints).toEqual([20, 100]);
  });

  it("accepts only single path segments as run names", () => {
    expect(isRunName("run-1")).toBe(true);
    for (const bad of ["", ".", "..", "a/b", "a\\b"]) expect(isRunName(bad)).toBe(false);
  });

  it("lists nothing for a missing root", async () => {
    expect(await listRuns(join(tmpdir(), "no-such-dashboard-root"))).toEqual([]);
  });
});

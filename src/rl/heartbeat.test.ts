import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HEARTBEAT_FILE, startHeartbeat, type Heartbeat } from "./heartbeat.js";

const root = mkdtempSync(join(tmpdir(), "spiral-heartbeat-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const read = (dir: string) => JSON.parse(readFileSync(join(dir, HEARTBEAT_FILE), "utf8")) as Heartbeat;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("heartbeat.json", () => {
  it("says running from the start, follows the steps, beats on a timer, and ends with the final state", async () => {
    let t = Date.parse("2026-12-01T10:00:00Z");
    const now = () => new Date((t += 1000));
    const beat = startHeartbeat(root, { step: 300, totalSteps: 1000, intervalMs: 20, now });
    const first = read(root);
    expect(first).toEqual({
      pid: process.pid, hostname: hostname(), startedAt: "2026-12-01T10:00:01.000Z", updatedAt: "2026-12-01T10:00:02.000Z", step: 300, totalSteps: 1000, state: "running",
    });
    beat.beat(301);
    expect(read(root)).toMatchObject({ step: 301, state: "running", startedAt: first.startedAt });
    const stepped = read(root).updatedAt;
    await sleep(80);
    expect(Date.parse(read(root).updatedAt)).toBeGreaterThan(Date.parse(stepped)); // the timer beat meanwhile
    beat.end("interrupted");
    const last = read(root);
    expect(last).toMatchObject({ step: 301, state: "interrupted" });
    await sleep(60);
    beat.beat(302);
    beat.end("finished");
    expect(read(root)).toEqual(last); // nothing after the end: no timer, no later writes
    expect(readdirSync(root)).toEqual([HEARTBEAT_FILE]); // no temporary file left behind
  });

  it("writes interrupted or failed when the process exits under it", () => {
    const dir = mkdtempSync(join(root, "exit-"));
    startHeartbeat(dir, { step: 0, totalSteps: 10 });
    // What process.exit() does before the process ends: the listeners run with the exit code.
    process.listeners("exit").at(-1)?.(130);
    expect(read(dir).state).toBe("interrupted");
    const dir2 = mkdtempSync(join(root, "exit-"));
    startHeartbeat(dir2, { step: 0, totalSteps: 10 });
    process.listeners("exit").at(-1)?.(1);
    expect(read(dir2).state).toBe("failed");
  });
});

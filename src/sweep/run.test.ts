import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lockSweep, SWEEP_LOCK_FILE } from "./run.js";

const root = mkdtempSync(join(tmpdir(), "spiral-sweep-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the sweep lock", () => {
  it("refuses a second process on the same sweep, and takes over a dead one's lock", async () => {
    const path = join(root, SWEEP_LOCK_FILE);
    // A live process holds it.
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    try {
      writeFileSync(path, JSON.stringify({ pid: holder.pid }));
      await expect(lockSweep(root)).rejects.toThrow(new RegExp(`another spiral sweep \\(pid ${holder.pid}\\) is running`));
    } finally {
      holder.kill("SIGKILL");
      await new Promise((r) => holder.on("exit", r));
    }
    // The same lock file, its process gone (as after kill -9): taken over, and released after.
    const unlock = await lockSweep(root);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ pid: process.pid });
    await unlock();
    expect(existsSync(path)).toBe(false);
  });
});

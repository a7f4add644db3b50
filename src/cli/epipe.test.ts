import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("spiral's output into a pipe its reader has closed", () => {
  it("stops quietly (exit 0, nothing on stderr) instead of an unhandled EPIPE", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", 'import { runCli } from "./src/cli/main.js"; await runCli(["node", "spiral", "games", "--json"]);'],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    // The reader goes away before the CLI (still loading its modules) writes a byte, as `| head`
    // does once it has its lines.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => resolve(code));
    });
    expect(stderr).toBe("");
    expect(status).toBe(0);
  }, 60_000);
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./main.js";

describe("spiral --version", () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    let out = "";
    const program = buildProgram().exitOverride().configureOutput({ writeOut: (text) => void (out += text) });
    await expect(program.parseAsync(["node", "spiral", "--version"])).rejects.toMatchObject({ code: "commander.version" });
    expect(out).toBe(`${version}\n`);
  });
});

import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/checkpoint.js";
import { initParams } from "../engine/params.js";
import { modelPreset } from "../engine/presets.js";
import { loadMathSet } from "../eval/math-data.js";
import { createRng } from "../games/rng.js";
import { mathPrompt } from "../prompt/math.js";
import { benchMathCommand, parseBenchMathOptions } from "./bench-math.js";
import { scriptedIo } from "./io.js";

const fixtures = join(import.meta.dirname, "../eval/fixtures");
const files = readdirSync(fixtures).filter((f) => f.endsWith(".jsonl")).sort().map((f) => join(fixtures, f));

async function run(args: string[]): Promise<string> {
  const io = scriptedIo([]);
  await benchMathCommand(io).parseAsync(args, { from: "user" });
  return io.stdout();
}

interface Summary {
  model: string;
  temperature: number;
  topP: number;
  sets: { name: string; problems: number; accuracy: number; interval: { low: number; high: number }; meanReplyTokens: number | null; transportFailures: number }[];
}

describe("spiral bench-math", () => {
  let root: string;
  let tiny: string;
  let oracle: Server;
  let oracleUrl: string;
  let seen: { temperature?: number; top_p?: number } = {};
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "spiral-math-"));
    tiny = join(root, "tiny");
    const config = modelPreset("tiny");
    await saveCheckpoint(tiny, { config, params: initParams(config, createRng(3), 0.1) });
    // A fake-but-real endpoint that knows every fixture answer and replies with it boxed.
    const answers = new Map(files.flatMap((f) => loadMathSet(f).map((p) => [mathPrompt(p.question)[0]!.content, p.answer] as const)));
    oracle = createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const body = JSON.parse(raw) as { messages: { content: string }[]; temperature: number; top_p: number };
        seen = body;
        const answer = answers.get(body.messages[0]!.content) ?? "unknown";
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content: `Working it out... so the answer is $\\boxed{${answer}}$.` } }], usage: { completion_tokens: 11 } }));
      });
    });
    await new Promise<void>((r) => oracle.listen(0, "127.0.0.1", () => r()));
    oracleUrl = `http://127.0.0.1:${(oracle.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    oracle?.closeAllConnections();
    await new Promise((r) => oracle?.close(r));
  });

  it("scores an endpoint that answers correctly at accuracy 1 on every fixture set, with SPIRAL's sampling", async () => {
    const out = await run(["--model", `openai:${oracleUrl}#oracle`, "--data", ...files, "--samples", "2", "--json"]);
    const r = JSON.parse(out) as Summary;
    expect(r.sets.map((s) => s.name)).toEqual(["aime24", "aime25", "amc23", "math500", "minerva_math", "olympiadbench"]);
    for (const s of r.sets) {
      expect(s.accuracy, s.name).toBe(1);
      expect(s.problems).toBe(3);
      expect(s.interval.high).toBe(1);
      expect(s.interval.low).toBeCloseTo(0.4385, 3); // Wilson for 3 of 3
      expect(s.meanReplyTokens).toBe(11);
      expect(s.transportFailures).toBe(0);
    }
    expect(seen).toMatchObject({ temperature: 0.6, top_p: 0.95 });
  });

  it("runs a tiny checkpoint through the whole pipeline (accuracy near 0) and writes per-sample details", async () => {
    const outFile = join(root, "math.json");
    const text = await run(["--model", tiny, "--data", files[3]!, "--limit", "2", "--samples", "2", "--max-new", "8", "--out", outFile]);
    expect(text).toMatch(/set\s+problems\s+accuracy \[95%\]\s+mean reply tokens/);
    expect(text).toMatch(/math500\s+2\s+0\.0% \[0\.0, \d+\.\d\]/);
    const saved = JSON.parse(readFileSync(outFile, "utf8")) as { sets: { details: { samples: { tokens: number }[] }[] }[] };
    const samples = saved.sets[0]!.details.flatMap((d) => d.samples);
    expect(samples).toHaveLength(4);
    for (const s of samples) expect(s.tokens).toBeLessThanOrEqual(8);
  });

  it("refuses game agents and bad options with what was expected", async () => {
    await expect(run(["--model", "random", "--data", files[0]!])).rejects.toThrow(/bench-math needs a model/);
    const base = { model: tiny, data: files, samples: "1", maxNew: "8", temperature: "0.6", topP: "0.95", seed: "0", concurrency: "4", timeout: "600", retries: "4" };
    expect(() => parseBenchMathOptions({ ...base, samples: "0" })).toThrow(/--samples expects an integer ≥ 1/);
    expect(() => parseBenchMathOptions({ ...base, topP: "0" })).toThrow(/--top-p expects a number in \(0, 1\]/);
  });

  it("fails after printing when an unreachable endpoint loses samples, unless --allow-failures", async () => {
    const args = ["--model", "openai:http://127.0.0.1:9/v1#none", "--data", files[0] as string, "--limit", "2", "--retries", "0", "--json"];
    const io = scriptedIo([]);
    await expect(benchMathCommand(io).parseAsync(args, { from: "user" })).rejects.toThrow(/^2 samples were lost to transport failures; .*--allow-failures/);
    expect((JSON.parse(io.stdout()) as Summary).sets[0]?.transportFailures).toBe(2);
    expect((JSON.parse(await run([...args, "--allow-failures"])) as Summary).sets[0]?.transportFailures).toBe(2);
  });
});

import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../engine/weights/checkpoint.js";
import { initParams } from "../engine/weights/params.js";
import { modelPreset } from "../engine/model/presets.js";
import { loadMathSet } from "../eval/math-data.js";
import { createRng } from "../core/rng.js";
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
  sets: {
    name: string;
    problems: number;
    grader: string;
    accuracy: number;
    interval: { low: number; high: number };
    strict: { accuracy: number; unextractable: number; fallbacks: number };
    reference: { accuracy: number; unextractable: number; fallbacks: number };
    meanReplyTokens: number | null;
    transportFailures: number;
  }[];
}

describe("spiral bench-math", () => {
  let root: string;
  let tiny: string;
  let oracle: Server;
  let oracleUrl: string;
  let seen: { temperature?: number; top_p?: number } = {};
  // How the oracle writes its answer: boxed, or (integer answers) 100 times the answer after "the answer is".
  let style: "boxed" | "hundredfold" = "boxed";
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
        const content = style === "boxed" || !/^\d+$/.test(answer) ? `Working it out... so the answer is $\\boxed{${answer}}$.` : `Working it out... the answer is ${Number(answer) * 100}.`;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content } }], usage: { completion_tokens: 11 } }));
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
      expect([s.grader, s.strict.accuracy, s.reference.accuracy], s.name).toEqual(["strict", 1, 1]);
      expect([s.strict.unextractable, s.strict.fallbacks, s.reference.fallbacks]).toEqual([0, 0, 0]);
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
    expect(text).toMatch(/set\s+problems\s+strict \[95%\]\s+reference \[95%\]\s+answers read \(strict\)/);
    expect(text).toMatch(/math500\s+2\s+0\.0% \[0\.0, \d+\.\d\]\s+\d+\.\d% \[/);
    const saved = JSON.parse(readFileSync(outFile, "utf8")) as { sets: { details: { samples: { tokens: number }[] }[] }[] };
    const samples = saved.sets[0]!.details.flatMap((d) => d.samples);
    expect(samples).toHaveLength(4);
    for (const s of samples) expect(s.tokens).toBeLessThanOrEqual(8);
  });

  it("prints both graders side by side; --grader reference makes it the headline; --items writes both verdicts per sample", async () => {
    style = "hundredfold";
    try {
      const items = join(root, "items.jsonl");
      const aime = files[0]!; // aime24: integer answers
      const json = JSON.parse(await run(["--model", `openai:${oracleUrl}#oracle`, "--data", aime, "--grader", "reference", "--json", "--items", items])) as Summary;
      const set = json.sets[0]!;
      // 100 × the answer is right by the harness's percentage rule, wrong by the strict grader;
      // neither reply has a box: the strict grader reads it by its "the answer is" fallback.
      expect([set.grader, set.accuracy, set.strict.accuracy, set.reference.accuracy]).toEqual(["reference", 1, 0, 1]);
      expect([set.strict.fallbacks, set.strict.unextractable, set.reference.fallbacks]).toEqual([3, 0, 3]);
      const lines = readFileSync(items, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { set: string; answer: string; strict: { prediction: string; extraction: string; correct: boolean }; reference: { prediction: string; correct: boolean } });
      expect(lines).toHaveLength(3);
      const first = lines[0]!;
      expect(first.set).toBe("aime24");
      expect(first.strict).toEqual({ prediction: `${Number(first.answer) * 100}`, extraction: "answer-is", correct: false });
      expect(first.reference).toMatchObject({ prediction: `${Number(first.answer) * 100}`, extraction: "answer-is", correct: true });
      const table = await run(["--model", `openai:${oracleUrl}#oracle`, "--data", aime]);
      expect(table).toMatch(/headline grader: strict/);
      expect(table).toMatch(/aime24\s+3\s+0\.0% \[0\.0, 56\.1\]\s+100\.0% \[43\.9, 100\.0\]\s+3\/3\s+3\/3\s+3\/3/);
    } finally {
      style = "boxed";
    }
  });

  it("refuses game agents and bad options with what was expected", async () => {
    await expect(run(["--model", "random", "--data", files[0]!])).rejects.toThrow(/bench-math needs a model/);
    const base = { model: tiny, data: files, samples: "1", maxNew: "8", temperature: "0.6", topP: "0.95", seed: "0", concurrency: "4", timeout: "600", retries: "4", grader: "strict" };
    expect(() => parseBenchMathOptions({ ...base, grader: "sympy" })).toThrow(/--grader expects strict or reference; got "sympy"/);
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

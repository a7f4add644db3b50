/**
 * Agreement of spiral's graders with the Python Qwen2.5-Math evaluation harness on
 * bench/math-harness/corpus.jsonl (1,010 reply/reference pairs built from the six test sets by
 * make_corpus.py). Runs harness_verdicts.py with the given harness and Python, grades the same
 * pairs with `{ grader: "reference" }` and with the strict grader, and prints the agreement of each
 * with the harness and every pair where the reference grader differs.
 *
 * Usage:
 *   npm run bench:math-agreement -- --harness DIR [--python python3] [--verdicts FILE] [--corpus FILE]
 *
 * DIR is the harness folder (grader.py, parser.py, latex2sympy/); sympy 1.12, the antlr4 4.11.1
 * runtime and word2number must be importable (put them on PYTHONPATH). `--verdicts` reuses a file
 * of harness verdicts written by an earlier run (or writes them there when the file does not
 * exist yet); `--corpus` grades another corpus of the same shape (make_corpus.py --solutions).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gradeReply } from "../src/eval/math-grade.js";

interface Pair {
  readonly set: string;
  readonly id: string;
  readonly answer: string;
  readonly harness_answer: string;
  readonly kind: string;
  readonly reply_mode: string;
  readonly reply: string;
}

interface Verdict {
  readonly pred: string;
  readonly gt: string;
  readonly correct: boolean;
  readonly timeout: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function harnessVerdicts(corpus: string): Verdict[] {
  const saved = option("verdicts");
  let text: string;
  if (saved !== undefined && existsSync(saved)) {
    text = readFileSync(saved, "utf8");
  } else {
    const harness = option("harness");
    if (harness === undefined) throw new Error("--harness DIR expected: the math-evaluation-harness folder (grader.py, parser.py)");
    const run = spawnSync(option("python") ?? "python3", [join(here, "math-harness", "harness_verdicts.py"), harness], { input: corpus, encoding: "utf8", maxBuffer: 1 << 28 });
    if (run.status !== 0) throw new Error(`the Python harness failed (exit ${run.status}):\n${run.stderr}`);
    process.stderr.write(run.stderr);
    text = run.stdout;
    if (saved !== undefined) writeFileSync(saved, text);
  }
  return text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Verdict);
}

function main(): void {
  const corpus = readFileSync(option("corpus") ?? join(here, "math-harness", "corpus.jsonl"), "utf8");
  const pairs = corpus
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Pair);
  const verdicts = harnessVerdicts(corpus);
  if (verdicts.length !== pairs.length) throw new Error(`${verdicts.length} harness verdicts for ${pairs.length} pairs`);
  let referenceAgree = 0;
  let strictAgree = 0;
  let harnessCorrect = 0;
  const differences: string[] = [];
  for (const [i, pair] of pairs.entries()) {
    const harness = verdicts[i] as Verdict;
    const reference = gradeReply(pair.reply, pair.harness_answer, { grader: "reference", dataset: pair.set });
    const strict = gradeReply(pair.reply, pair.answer);
    if (harness.correct) harnessCorrect++;
    if (strict.correct === harness.correct) strictAgree++;
    if (reference.correct === harness.correct) referenceAgree++;
    else {
      differences.push(
        `${pair.set}#${pair.id} ${pair.kind}/${pair.reply_mode}: harness ${harness.correct} (pred ${JSON.stringify(harness.pred)} gt ${JSON.stringify(harness.gt)}), spiral reference ${reference.correct} (pred ${JSON.stringify(reference.prediction)})`,
      );
    }
  }
  const pct = (k: number): string => `${((100 * k) / pairs.length).toFixed(1)}%`;
  console.log(`pairs: ${pairs.length}; the harness calls ${harnessCorrect} (${pct(harnessCorrect)}) correct`);
  console.log(`reference grader agrees with the harness on ${referenceAgree} (${pct(referenceAgree)})`);
  console.log(`strict grader agrees with the harness on ${strictAgree} (${pct(strictAgree)})`);
  if (differences.length > 0) console.log(`\ndifferences (${differences.length}):\n${differences.join("\n")}`);
}

main();

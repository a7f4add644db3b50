"""Grades corpus.jsonl with the Qwen2.5-Math evaluation harness that SPIRAL vendors
(evals/benchmarks/math-evaluation-harness), exactly as its math_eval.py does: the reference
through parse_ground_truth, the reply through extract_answer and strip_string (run_execute),
the choice-letter fix-up, then math_equal with a 3-second limit per pair (evaluate.py's).

    PYTHONPATH=<sympy 1.12>:<antlr4 4.11.1 runtime>:<word2number> \
      python3 bench/math-harness/harness_verdicts.py HARNESS_DIR < corpus.jsonl > verdicts.jsonl
"""
import json
import os
import signal
import sys

harness = sys.argv[1]
sys.path[:0] = [harness, os.path.join(harness, "latex2sympy")]
os.chdir(harness)

import sympy  # noqa: E402
from grader import math_equal  # noqa: E402
from parser import STRIP_EXCEPTIONS, choice_answer_clean, extract_answer, parse_ground_truth, strip_string  # noqa: E402

print(f"sympy {sympy.__version__}", file=sys.stderr)


def is_multi_choice(answer):
    """math_eval.py's (importing math_eval would pull in vllm and datasets)."""
    return all(c in "ABCDE" for c in answer)


def example(record):
    """The set's own record shape, as parse_ground_truth reads it."""
    name, gt = record["set"], record["harness_answer"]
    if name in ("math500", "minerva_math"):
        return {"solution": f"so the answer is $\\boxed{{{gt}}}$."}
    if name == "olympiadbench":
        return {"final_answer": [gt]}
    return {"answer": gt}


class Timeout(Exception):
    pass


def on_alarm(_signum, _frame):
    raise Timeout()


signal.signal(signal.SIGALRM, on_alarm)

for line in sys.stdin:
    if not line.strip():
        continue
    record = json.loads(line)
    name = record["set"]
    _, gt = parse_ground_truth(example(record), name)
    pred = strip_string(extract_answer(record["reply"], name), skip_unit=name in STRIP_EXCEPTIONS)
    if gt in ["A", "B", "C", "D", "E"] and pred not in ["A", "B", "C", "D", "E"]:
        pred = choice_answer_clean(record["reply"])
    elif is_multi_choice(gt) and not is_multi_choice(pred):
        pred = "".join(c for c in pred if c in "ABCDE")
    timeout = False
    signal.alarm(3)
    try:
        correct = bool(math_equal(pred, gt))
    except Timeout:
        correct, timeout = False, True
    except Exception as error:  # the harness's pool would report and stop; count it as wrong
        correct = False
        print(f"error on {record['set']} {record['id']}: {error!r}", file=sys.stderr)
    finally:
        signal.alarm(0)
    print(json.dumps({"pred": pred, "gt": gt, "correct": correct, "timeout": timeout}, ensure_ascii=False), flush=True)

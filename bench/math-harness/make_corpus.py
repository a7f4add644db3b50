"""Builds corpus.jsonl: reference answers from the six test sets, each paired with a plausible
model reply (the same answer written another way, a near miss, a unit or percentage variant, an
interval or list variant, or an answer given without \\boxed{}). Deterministic (seeded).

    python3 bench/math-harness/make_corpus.py DATA_DIR > bench/math-harness/corpus.jsonl

With --solutions, writes instead the worked solutions of math500 and minerva_math as replies,
each against its own reference and against the next problem's (1,544 pairs of real text):

    python3 bench/math-harness/make_corpus.py DATA_DIR --solutions > solutions.jsonl

With --forms, every reference answer of the six sets written in three other LaTeX forms (picked
from FORMS, seeded) and against another answer of its set:

    python3 bench/math-harness/make_corpus.py DATA_DIR --forms > forms.jsonl
"""
import json
import random
import re
import sys

rng = random.Random(22)
DATA = sys.argv[1]


def harness_box(solution):
    """The harness's own box rule: text after the last 'boxed', brace-matched."""
    ans = solution.split("boxed")[-1]
    if ans[:1] != "{":
        return ans.split("$")[0].strip()
    depth, out = 1, ""
    for c in ans[1:]:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        out += c
    return out


def last_box_js(solution):
    """spiral's lastBoxed for minerva's reference (brace-matched last \\boxed{})."""
    i = solution.rfind("\\boxed{")
    depth, j = 0, i + 6
    for k in range(j, len(solution)):
        if solution[k] == "{":
            depth += 1
        elif solution[k] == "}":
            depth -= 1
            if depth == 0:
                return solution[j + 1 : k]
    return None


def load(name):
    rows = [json.loads(l) for l in open(f"{DATA}/{name}.jsonl") if l.strip()]
    out = []
    for i, r in enumerate(rows):
        if name == "olympiadbench":
            answer = ", ".join(r["final_answer"])
            harness = r["final_answer"][0].strip("$")
        elif name == "minerva_math":
            answer = last_box_js(r["solution"])
            harness = harness_box(r["solution"])
        elif name == "amc23":
            v = r["answer"]
            answer = str(int(v)) if float(v).is_integer() else str(v)
            harness = str(v)
        else:
            answer = str(r["answer"])
            harness = answer
        out.append({"set": name, "id": str(r.get("id", r.get("idx", i + 1))), "answer": answer, "harness_answer": harness})
    return out


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def fmt(x):
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def variants(a):
    """(kind, boxed content or whole reply) pairs for reference answer a."""
    v = [("same", a)]
    core = a.strip("$")
    v.append(("dollars", f"${core}$"))
    v.append(("assignment", f"x = {core}"))
    v.append(("spaces", re.sub(r"([+\-=,])", r" \1 ", core)))
    v.append(("dfrac", core.replace("\\frac", "\\dfrac")))
    v.append(("text-wrap", f"\\text{{{core}}}"))
    n = number(core)
    if n is not None:
        v += [
            ("plus-one", fmt(n + 1)),
            ("minus-one", fmt(n - 1)),
            ("times-100", fmt(n * 100)),
            ("over-100", fmt(n / 100)),
            ("percent", f"{core}\\%"),
            ("unit-cm", f"{core} \\text{{ cm}}"),
            ("unit-two-words", f"{core} square inches"),
            ("unit-east", f"{core} \\text{{ east}}"),
            ("degrees", f"{core}^\\circ"),
            ("decimal", f"{n:.6f}"),
            ("rel-1e-5", repr(n * (1 + 1e-5)) if n else "0.00001"),
            ("rel-1e-3", repr(n * (1 + 1e-3)) if n else "0.001"),
            ("thousands", f"{int(n):,}" if float(n).is_integer() else core),
            ("negated", fmt(-n)),
            ("leading-zero", f"0{core}" if float(n).is_integer() and n >= 0 else core),
        ]
    m = re.fullmatch(r"\\frac\{(-?\d+)\}\{(\d+)\}", core)
    if m:
        p, q = int(m.group(1)), int(m.group(2))
        v += [("slash", f"{p}/{q}"), ("frac-decimal", repr(p / q)), ("frac-rounded", f"{p / q:.3f}"), ("frac-flipped", f"\\frac{{{q}}}{{{p}}}"),
              ("frac-unreduced", f"\\frac{{{2 * p}}}{{{2 * q}}}"), ("mixed", f"{p // q}\\frac{{{p % q}}}{{{q}}}" if p > q else core)]
    if core[:1] in "([" and core[-1:] in ")]":
        inner = core[1:-1]
        v += [("brackets-round", f"({inner})"), ("brackets-square", f"[{inner}]"), ("brackets-half", f"[{inner})"), ("no-brackets", inner)]
        parts = inner.split(",")
        if len(parts) == 2:
            v.append(("swapped", f"{core[0]}{parts[1].strip()}, {parts[0].strip()}{core[-1]}"))
    if "," in core and core[:1] not in "([{":
        parts = [p.strip() for p in core.split(",")]
        v += [("list-reversed", ", ".join(reversed(parts))), ("list-first", parts[0]), ("list-set", "\\{" + ", ".join(parts) + "\\}"), ("list-and", " and ".join(parts))]
    if "\\sqrt" in core:
        v.append(("sqrt-nobrace", re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", core)))
        v.append(("sqrt-changed", core.replace("\\sqrt{", "\\sqrt{2*", 1)))
    if "\\pi" in core:
        v.append(("pi-dropped", core.replace("\\pi", "")))
    if re.search(r"[a-z]", core.replace("\\frac", "").replace("\\sqrt", "")):
        v.append(("expr-reordered", "+".join(reversed(core.split("+"))) if "+" in core else core))
        v.append(("expr-changed", core + "+1"))
    if "=" in core:
        l, _, r = core.partition("=")
        v.append(("equation-swapped", f"{r.strip()} = {l.strip()}"))
        v.append(("equation-rhs", r.strip()))
    if "\\text" in core:
        v.append(("text-plain", re.sub(r"\\text\{([^}]*)\}", r"\1", core)))
    return v


REPLIES = [
    ("boxed", lambda x: f"Working through the problem step by step, we get the result.\nTherefore the final answer is $\\boxed{{{x}}}$."),
    ("the-answer-is", lambda x: f"Putting it together, the answer is {x}."),
    ("final-answer", lambda x: f"So we are done.\n\nFinal answer: {x}"),
    ("boxed-no-braces", lambda x: f"Hence $\\boxed {x}$."),
    ("last-number", lambda x: f"We compute 3 + 4 = 7 and then the total becomes {x}"),
]


def main():
    sets = {"math500": 260, "minerva_math": 120, "olympiadbench": 230, "aime24": 30, "aime25": 30, "amc23": 40}
    generic = {"same", "dollars", "assignment", "spaces", "dfrac", "text-wrap"}
    corpus = []
    for name, count in sets.items():
        items = load(name)
        for k in range(count):
            item = items[rng.randrange(len(items))]
            kind, content = rng.choice(variants(item["harness_answer"]))
            mode, reply = REPLIES[0] if rng.random() < 0.85 else rng.choice(REPLIES[1:])
            corpus.append({**item, "kind": kind, "reply_mode": mode, "reply": reply(content)})
        # Answers that are not plain numbers (expressions, tuples, intervals, lists, words) get
        # one more pair each, from their specific variants, so structure is well represented.
        structured = [i for i in items if number(i["harness_answer"].strip("$")) is None]
        for item in rng.sample(structured, min(len(structured), {"math500": 140, "minerva_math": 40, "olympiadbench": 120}.get(name, 0))):
            specific = [v for v in variants(item["harness_answer"]) if v[0] not in generic] or variants(item["harness_answer"])
            kind, content = rng.choice(specific)
            corpus.append({**item, "kind": kind, "reply_mode": "boxed", "reply": REPLIES[0][1](content)})
    for c in corpus:
        print(json.dumps(c, ensure_ascii=False))


def solutions():
    for name in ["math500", "minerva_math"]:
        rows = [json.loads(l) for l in open(f"{DATA}/{name}.jsonl") if l.strip()]
        items = load(name)
        for i, item in enumerate(items):
            for kind, other in [("solution", rows[i]), ("neighbour-solution", rows[(i + 1) % len(rows)])]:
                print(json.dumps({**item, "kind": kind, "reply_mode": "boxed", "reply": other["solution"]}, ensure_ascii=False))


FORMS = [
    lambda a: a.replace("\\frac", "\\dfrac"),
    lambda a: "\\left(" + a + "\\right)",
    lambda a: re.sub(r"\\frac\{([^{}]+)\}\{([^{}]+)\}", r"(\1)/(\2)", a),
    lambda a: re.sub(r"\\sqrt\{(\w)\}", r"\\sqrt \1", a),
    lambda a: a + "^{\\circ}",
    lambda a: "\\text{" + a + " cm}",
    lambda a: a.replace(",", ", "),
    lambda a: a.replace(" ", ""),
    lambda a: "$" + a + "$ units",
    lambda a: "x \\in " + a,
    lambda a: a + " \\text{ dollars}",
    lambda a: a.replace("\\pi", "\\pi "),
    lambda a: "\\{" + a + "\\}",
    lambda a: a + "\\%",
    lambda a: a.replace("-", "- "),
    lambda a: "\\mathbf{" + a + "}",
    lambda a: a.replace("\\left", "").replace("\\right", ""),
]


def forms():
    for name in ["math500", "minerva_math", "olympiadbench", "aime24", "aime25", "amc23"]:
        items = load(name)
        for item in items:
            answer = item["harness_answer"].strip("$")
            replies = [("form", form(answer)) for form in rng.sample(FORMS, 3)]
            replies.append(("other-answer", rng.choice(items)["harness_answer"].strip("$")))
            for kind, content in replies:
                print(json.dumps({**item, "kind": kind, "reply_mode": "boxed", "reply": REPLIES[0][1](content)}, ensure_ascii=False))


if "--solutions" in sys.argv:
    solutions()
elif "--forms" in sys.argv:
    forms()
else:
    main()

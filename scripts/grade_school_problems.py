"""Writes era's example problem file, `assets/problems/grade-school.jsonl`: grade-school word problems
in GSM8K's format (a `question`, and an `answer` whose worked lines end in `#### <number>`), written
for era from templates below (no problem is taken from GSM8K or any other set).

    python3 scripts/grade_school_problems.py [--count 400] [--seed 0] [--out assets/problems/grade-school.jsonl]

One or two steps of addition, subtraction or multiplication of small numbers, so that the embedded
tiny model (about a million parameters, a character vocabulary read from the file) can learn some of
them within minutes on a CPU: `era train llm --data assets/problems/grade-school.jsonl
--prompt-field question --reward numeric`. The same seed writes the same file.
"""

import argparse
import json
import random

NAMES = ["Ana", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena", "Mo", "Nia",
         "Omar", "Pia", "Raj", "Sara", "Tom", "Uma", "Vic", "Wen", "Yara", "Zoe"]
# (plural noun, verb for getting more, verb for giving some away)
THINGS = [("apples", "picks", "eats"), ("pencils", "buys", "gives away"), ("stickers", "gets", "trades away"),
          ("marbles", "finds", "loses"), ("books", "borrows", "returns"), ("cards", "wins", "gives away"),
          ("shells", "collects", "drops"), ("coins", "earns", "spends"), ("stamps", "buys", "sells"),
          ("cookies", "bakes", "eats")]
CONTAINERS = [("boxes", "box"), ("bags", "bag"), ("jars", "jar"), ("baskets", "basket"), ("rows", "row")]


def add(rng):
    name, (thing, more, _) = rng.choice(NAMES), rng.choice(THINGS)
    a, b = rng.randint(2, 60), rng.randint(2, 40)
    q = f"{name} has {a} {thing}. {name} {more} {b} more. How many {thing} does {name} have now?"
    return q, [f"{a}+{b}={a + b}"], a + b


def subtract(rng):
    name, (thing, _, less) = rng.choice(NAMES), rng.choice(THINGS)
    a = rng.randint(10, 90)
    b = rng.randint(1, a - 1)
    q = f"{name} has {a} {thing} and {less} {b}. How many {thing} are left?"
    return q, [f"{a}-{b}={a - b}"], a - b


def multiply(rng):
    name, (thing, _, _), (many, one) = rng.choice(NAMES), rng.choice(THINGS), rng.choice(CONTAINERS)
    a, b = rng.randint(2, 9), rng.randint(2, 12)
    q = f"{name} has {a} {many} with {b} {thing} in each {one}. How many {thing} does {name} have?"
    return q, [f"{a}*{b}={a * b}"], a * b


def together(rng):
    x, y = rng.sample(NAMES, 2)
    thing = rng.choice(THINGS)[0]
    a, b = rng.randint(2, 50), rng.randint(2, 50)
    q = f"{x} has {a} {thing} and {y} has {b}. How many {thing} do they have together?"
    return q, [f"{a}+{b}={a + b}"], a + b


def difference(rng):
    x, y = rng.sample(NAMES, 2)
    thing = rng.choice(THINGS)[0]
    a = rng.randint(10, 80)
    b = rng.randint(1, a - 1)
    q = f"{x} has {a} {thing} and {y} has {b}. How many more {thing} does {x} have than {y}?"
    return q, [f"{a}-{b}={a - b}"], a - b


def two_steps(rng):
    name, (thing, more, less) = rng.choice(NAMES), rng.choice(THINGS)
    a, b = rng.randint(5, 50), rng.randint(2, 30)
    c = rng.randint(1, a + b - 1)
    q = f"{name} has {a} {thing}, {more} {b} more and then {less} {c}. How many {thing} does {name} have now?"
    return q, [f"{a}+{b}={a + b}", f"{a + b}-{c}={a + b - c}"], a + b - c


KINDS = [add, subtract, multiply, together, difference, two_steps]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="assets/problems/grade-school.jsonl")
    args = p.parse_args()
    rng, seen, rows = random.Random(args.seed), set(), []
    while len(rows) < args.count:
        question, lines, result = KINDS[len(rows) % len(KINDS)](rng)
        if question in seen:
            continue
        seen.add(question)
        rows.append({"question": question, "answer": "\n".join(lines + [f"#### {result}"])})
    with open(args.out, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

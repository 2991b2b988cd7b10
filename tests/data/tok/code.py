#!/usr/bin/env python3
"""Word frequencies, for the tokenizer test corpus."""
from __future__ import annotations

import collections
import re
import sys
from dataclasses import dataclass, field
from typing import Iterable, Iterator


WORD = re.compile(r"[A-Za-z']+|\d+(?:\.\d+)?")


@dataclass
class Stats:
    words: int = 0
    lines: int = 0
    counts: collections.Counter = field(default_factory=collections.Counter)

    def feed(self, line: str) -> None:
        self.lines += 1
        for w in WORD.findall(line.lower()):
            self.words += 1
            self.counts[w] += 1

    def top(self, n: int = 10) -> list[tuple[str, int]]:
        return self.counts.most_common(n)


def read_lines(paths: Iterable[str]) -> Iterator[str]:
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as fh:
            yield from fh


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(f"usage: {argv[0]} FILE...", file=sys.stderr)
        return 2
    st = Stats()
    for line in read_lines(argv[1:]):
        st.feed(line)
    width = max((len(w) for w, _ in st.top()), default=0)
    for word, n in st.top():
        print(f"{word:<{width}}  {n:>6d}  {100 * n / max(st.words, 1):5.2f}%")
    print(f"{st.lines} lines, {st.words} words; it's done, isn't it? We'll see. They've said 'yes'.")
    return 0


class Matrix:
    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols
        self.data = [[0.0] * cols for _ in range(rows)]

    def __matmul__(self, other: "Matrix") -> "Matrix":
        out = Matrix(self.rows, other.cols)
        for i in range(self.rows):
            for j in range(other.cols):
                out.data[i][j] = sum(self.data[i][k] * other.data[k][j] for k in range(self.cols))
        return out

    def __repr__(self):
        return f"Matrix({self.rows}x{self.cols})"


if __name__ == "__main__":
    sys.exit(main(sys.argv))

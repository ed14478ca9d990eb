#!/usr/bin/python3
"""Copies bench/results/SNIPPET.md (written by bench/run.sh) into README.md
between the markers <!-- bench:begin --> and <!-- bench:end -->, so the
numbers in README are the harness's own output, never typed by hand."""
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
readme = root / "README.md"
snippet = (root / "bench" / "results" / "SNIPPET.md").read_text().strip()
text = readme.read_text()
begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
if begin not in text or end not in text:
    sys.exit("README.md lacks the bench markers")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
readme.write_text(f"{head}{begin}\n{snippet}\n{end}{tail}")
print("README.md: benchmark section updated from bench/results/SNIPPET.md")

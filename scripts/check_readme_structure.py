#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check that README_zh.md keeps step with README.md.

Compares the two files' structure, element by element in order: headings
(their level), fenced code blocks (their language and line count), tables
(their column and row count) and images (their path). Text may differ (it
is a translation); the shape may not. Prints the first mismatch with both
files' line numbers and exits 1.

  scripts/check_readme_structure.py [README.md README_zh.md]
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def elements(path):
    """[(line number, description, the heading above it)] of a Markdown file's
    structural elements."""
    out = []
    under = "the top"
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^(\s*)(```+|~~~+)(\S*)", line)
        if fence:
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(fence.group(2)):
                j += 1
            out.append((i + 1, f"code block ```{fence.group(3)} of {j - i - 1} lines", under))
            i = j + 1
            continue
        heading = re.match(r"^(#{1,6})\s", line)
        if heading:
            out.append((i + 1, f"heading of level {len(heading.group(1))}", under))
            under = line.strip()
        elif line.startswith("|"):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            cols = len(re.findall(r"(?<!\\)\|", lines[i].strip())) - 1
            out.append((i + 1, f"table of {cols} columns and {j - i - 2} rows", under))
            i = j
            continue
        for img in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", line):
            out.append((i + 1, f"image {img}", under))
        i += 1
    return out


def main():
    en, zh = sys.argv[1:3] if len(sys.argv) == 3 else (os.path.join(ROOT, "README.md"),
                                                       os.path.join(ROOT, "README_zh.md"))
    a, b = elements(en), elements(zh)
    for k in range(max(len(a), len(b))):
        ea = a[k] if k < len(a) else (None, "the end of the file", "")
        eb = b[k] if k < len(b) else (None, "the end of the file", "")
        if ea[1] != eb[1]:
            sys.exit(f"README structure: element {k + 1} differs:\n"
                     f"  {os.path.basename(en)}:{ea[0] or 'end'}: {ea[1]} (under {ea[2]})\n"
                     f"  {os.path.basename(zh)}:{eb[0] or 'end'}: {eb[1]} (under {eb[2]})\n"
                     "keep the translation in step (same headings, code blocks, tables, images)")
    print(f"README structure: {len(a)} elements alike in both files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Doxygen's input filter for vio's public headers (docs/Doxyfile.in).

The headers document every declaration in plain C comments, as the rest
of the code does; this filter turns them into Doxygen's on the fly, so the
headers need no Doxygen markup:

  - the first comment after the SPDX line describes the file (@file);
  - a comment on lines of its own documents the declaration after it, or,
    when several declarations follow it with no blank line between (a
    function and its variants, a run of macros), each of them (a member
    group, DISTRIBUTE_GROUP_DOC);
  - a comment after code on the same line documents that member (/**<).

It prints the header with only those comment openers changed and group
markers added at line ends, so Doxygen's warnings point at the real lines.
"""

import re
import sys

TRAILING = re.compile(r"^(.*\S.*?)(\s*)/\*(?!\*)(.*)$")
MULTI = re.compile(r"^(\s*)((?:const\s+)?(?:struct\s+)?\w+)\s+(\w+(?:\s*,\s*\w+)+);$")


def group_end(lines, i):
    """After a comment ending before line i: the last line of a run of two or
    more declarations without braces and without comments of their own, or
    None."""
    decls = 0
    last = None
    while i < len(lines):
        s = lines[i].strip()
        if not s or s.startswith("/*") or "{" in s or "}" in s:
            break
        if s.startswith("#define") or s.endswith(";") or re.search(r";\s*/\*.*\*/$", s):
            if decls and "/*" in s:
                break  # documented on its own: the group ends before it
            decls += 1
            last = i
        elif s.startswith("#"):
            break
        i += 1
    return last if decls >= 2 else None


def main(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out = list(lines)
    close = set()  # lines that end a member group
    seen_file_comment = False
    depth = 0  # braces open: member groups only at file level
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        code = re.sub(r"/\*.*?(\*/|$)", "", line)
        depth += code.count("{") - code.count("}")
        if stripped.startswith("/*") and not stripped.startswith("/**") \
                and "SPDX-License-Identifier" not in line:
            first = not seen_file_comment
            seen_file_comment = True
            sep = "" if stripped[2:3].isspace() or not stripped[2:3] else " "
            j = i
            while "*/" not in lines[j]:
                j += 1
            end = None if first else group_end(lines, j + 1)
            closer = None
            if end is not None:
                # Not after a #define (it would join the macro's body): at
                # the start of the blank or comment line that ends the run.
                after = lines[end + 1].strip() if end + 1 < len(lines) else "#"
                if not after or after.startswith("/*"):
                    closer = end + 1
                elif not lines[end].lstrip().startswith("#"):
                    closer = end
            opener = "/** @file" if first else "/**"
            out[i] = ("/**@{*/ " if closer is not None else "") + line.replace("/*", opener + sep, 1)
            if closer is not None:
                close.add((closer, closer > end))
            i = j + 1
            continue
        m = TRAILING.match(line)
        if m and not m.group(1).lstrip().startswith(("//", "*")) and '"' not in m.group(1):
            out[i] = f"{m.group(1)}{m.group(2)}/**<{m.group(3)}"
            multi = MULTI.match(m.group(1))
            if multi and "*/" in m.group(3):
                # "uint32_t x, y; /* c */": each name gets the comment.
                indent, typ, names = multi.groups()
                out[i] = indent + " ".join(f"{typ} {n.strip()}; /**<{m.group(3)}"
                                           for n in names.split(","))
            while "*/" not in lines[i]:
                i += 1
        i += 1
    for n, at_start in close:
        out[n] = "/**@}*/ " + out[n] if at_start else out[n] + " /**@}*/"
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])

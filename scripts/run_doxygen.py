#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run Doxygen and fail on any warning (the api-doxygen test, cmake/docs.cmake).

  scripts/run_doxygen.py DOXYGEN DOXYFILE WARNINGS_LOG

The Doxyfile writes its warnings to WARNINGS_LOG; an empty log is a pass.
"""

import os
import subprocess
import sys


def main():
    doxygen, doxyfile, log = sys.argv[1:4]
    if os.path.exists(log):
        os.remove(log)
    rc = subprocess.run([doxygen, doxyfile], cwd=os.path.dirname(doxyfile)).returncode
    warnings = open(log, encoding="utf-8").read().strip() if os.path.exists(log) else ""
    if rc != 0:
        sys.exit(f"doxygen exited with {rc}\n{warnings}")
    if warnings:
        n = len(warnings.splitlines())
        sys.exit(f"doxygen: {n} warning lines (document every public declaration):\n{warnings}")
    print(f"doxygen: no warnings; the reference is in {os.path.dirname(doxyfile)}/html")
    return 0


if __name__ == "__main__":
    sys.exit(main())

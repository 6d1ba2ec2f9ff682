# SPDX-License-Identifier: Apache-2.0
"""How far a benchmark has come and about how long it has left, on stderr.

A benchmark runs scenarios (board x interface x ...), each a known number
of cells (one measurement of one guest, one workload). After each cell it
prints a line like

  cell 7/24 (r4kq1 vio-irq): 41 s, ~100 s left in this scenario, ~420 s in all

The estimate is the mean time of the cells done so far times the cells to
go; the scenarios still to come are taken to last as long as this one
will. It is a guess for a person waiting, never a measurement.
"""
import sys
import time


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


class Progress:
    def __init__(self, total, what="cell", scenarios_after=0, log=_say):
        """total: cells this scenario; scenarios_after: scenarios still to run after it."""
        self.total = max(1, total)
        self.what = what
        self.after = scenarios_after
        self.log = log
        self.done = 0
        self.t0 = time.monotonic()

    def step(self, label=""):
        """One cell done (label says which); print where the run is."""
        self.done += 1
        spent = time.monotonic() - self.t0
        left = spent / self.done * max(0, self.total - self.done)
        msg = f"  {self.what} {self.done}/{self.total}{f' ({label})' if label else ''}: " \
              f"{spent:.0f} s, ~{left:.0f} s left"
        if self.after:
            msg += f" in this scenario, ~{left + self.after * (spent + left):.0f} s in all"
        self.log(msg)


def scenario_header(k, n, title, log=_say):
    """The line that opens scenario k (from 1) of n."""
    log(f"== scenario {k}/{n}: {title}")

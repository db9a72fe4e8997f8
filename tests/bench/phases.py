#!/usr/bin/env python3
"""Median per phase of `approve-exec --timings` runs.

    phases.py RUNS APPROVE-EXEC ARG...

Runs the command RUNS times with --timings and prints, for each phase
in the order the program names them, the median and 90th percentile of
its milliseconds (and the mean: work done once in a while, such as
the settling of staged commits, shows there), then the median wall
time from the outside.
"""
import statistics
import subprocess
import sys
import time


def main():
    runs = int(sys.argv[1])
    cmd = [sys.argv[2], "--timings"] + sys.argv[3:]
    phases, order, walls = {}, [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        walls.append((time.perf_counter() - t0) * 1e3)
        if r.returncode != 0:
            sys.exit("exit status %d: %s" % (r.returncode, r.stderr))
        for line in r.stderr.splitlines():
            w = line.split()
            if len(w) == 5 and w[1] == "timing":
                if w[2] not in phases:
                    phases[w[2]] = []
                    order.append(w[2])
                phases[w[2]].append(float(w[3]))
    if not order:
        sys.exit("no timing lines: is --timings supported?")
    total = 0.0
    print("  %-10s %8s %8s %8s" % ("phase", "median", "p90", "mean"))
    for p in order:
        v = sorted(phases[p])
        m = statistics.median(v)
        total += m
        print("  %-10s %8.3f %8.3f %8.3f" % (p, m, v[max(0, (len(v) * 9) // 10 - 1)],
                                       statistics.mean(v)))
    print("  %-10s %8.3f" % ("sum", total))
    print("  %-10s %8.3f   (from the outside, fork+exec+wait included)" %
          ("wall", statistics.median(walls)))


main()

#!/usr/bin/env python3
"""Interleaved medians of wall times.

    medians.py ROUNDS NAME=COMMAND [NAME=COMMAND...]

Each round runs every command once, in turn, so that load on the
machine weighs on all of them alike. A command is split into words as
the shell would and run directly, with no shell started for it: a
shell's start would add the same constant to every figure and bring
the ratios between them closer than they are. Prints "NAME MEDIAN_MS"
lines (and the 10th and 90th percentiles, and the mean). A command
that exits non-zero is an error: a benchmark must not time a failure.
"""
import shlex
import statistics
import subprocess
import sys
import time


def main():
    rounds = int(sys.argv[1])
    cmds = [(n, shlex.split(c)) for n, c in
            (a.split("=", 1) for a in sys.argv[2:])]
    times = {name: [] for name, _ in cmds}
    for _ in range(rounds):
        for name, cmd in cmds:
            t0 = time.perf_counter()
            r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
            t1 = time.perf_counter()
            if r.returncode != 0:
                sys.exit("%s: exit status %d" % (" ".join(cmd),
                                                  r.returncode))
            times[name].append((t1 - t0) * 1e3)
    for name, _ in cmds:
        v = sorted(times[name])
        p10 = v[len(v) // 10]
        p90 = v[(len(v) * 9) // 10 - 1 if len(v) >= 10 else -1]
        print("%s %.3f %.3f %.3f %.3f" % (name, statistics.median(v), p10,
                                          p90, statistics.mean(v)))


main()

#!/usr/bin/env python3
"""check-report.py EXPECTED FORMAT FILE: checks a report's numbers
against the counts gen-audit printed when it made the repository.
FORMAT is json, csv, oscal or html (the DOM chromium dumped). Prints what
differs and exits 1, or exits 0."""
import csv
import json
import re
import sys

RESULTS = ["allowed", "approved", "denied", "timeout", "error", "cancelled",
           "break_glass"]
bad = []


def same(what, got, want):
    if got != want:
        bad.append("%s: got %r, want %r" % (what, got, want))


def rank(v, p):
    v = sorted(v)
    return v[max((len(v) * p + 99) // 100, 1) - 1]


def check_stats(name, s, e):
    same(name + " decisions", s["decisions"], e["decisions"])
    for r in RESULTS:
        same(name + " " + r, s["results"][r], e["results"][r])
    same(name + " ran_without_approval", s["ran_without_approval"],
         e["ran_without_approval"])
    bg = s["break_glass"]
    same(name + " break_glass", bg["runs"], e["break_glass"])
    same(name + " accepted", bg["accepted"], e["accepted"])
    same(name + " rejected", bg["rejected"], e["rejected"])
    same(name + " overdue", bg["overdue"], e["overdue"])
    same(name + " missing_outcome", s["missing_outcome"], e["missing_outcome"])
    same(name + " self refused", s["self_approvals"]["refused"],
         e["self_refused"])
    same(name + " approvals", s["approvers"]["approvals"], e["approvals"])
    same(name + " approvers", s["approvers"]["distinct"], e["approvers"])
    lat = e["latency_ms"]
    if lat is None:
        same(name + " latency", s["latency_s"], None)
    else:
        for k in ("median", "p90", "max"):
            same(name + " latency " + k, round(s["latency_s"][k] * 1000),
                 lat[k])


def check_json(exp, path):
    doc = json.load(open(path))
    same("schema", doc["schema"], "approve-exec/report/v1")
    same("commit length", len(doc["commit"]), 40)
    check_stats("totals", doc["totals"], exp["totals"])
    ctl = {c["id"]: c for c in doc["controls"]}
    same("controls", sorted(ctl), sorted(exp["controls"]))
    for k, e in exp["controls"].items():
        if k in ctl:
            check_stats(k, ctl[k], e)
    same("exceptions listed", len(doc["exceptions"]["ran_without_approval"]),
         exp["totals"]["ran_without_approval"])


def check_csv(exp, path):
    raw = open(path, newline="").read()
    if raw and not raw.endswith("\r\n"):
        bad.append("rows do not end in CRLF")
    rows = list(csv.DictReader(raw.splitlines(True)))
    t = exp["totals"]
    same("csv rows", len(rows), t["decisions"])
    for r in RESULTS:
        same("csv " + r, sum(1 for x in rows if x["decision"] == r),
             t["results"][r])
    same("csv break_glass", sum(1 for x in rows if x["break_glass"] == "yes"),
         t["break_glass"])
    same("csv overdue", sum(1 for x in rows if x["review"] == "overdue"),
         t["overdue"])
    lat = [round(float(x["latency_s"]) * 1000) for x in rows if x["latency_s"]]
    if t["latency_ms"] is not None:
        same("csv latency median", rank(lat, 50), t["latency_ms"]["median"])
        same("csv latency max", max(lat), t["latency_ms"]["max"])
    for k, e in exp["controls"].items():
        same("csv " + k, sum(1 for x in rows
                             if k in x["controls"].split(";")), e["decisions"])
    for x in rows:
        for col, v in x.items():
            if v[:1] in ("=", "+", "-", "@"):
                bad.append("formula cell %s=%r in %s" % (col, v, x["id"]))
        if len(x["commit"]) != 40 or x["signature"] not in ("good", "FAILED"):
            bad.append("record %s: commit %r signature %r" %
                       (x["id"], x["commit"], x["signature"]))


def props(o):
    return {p["name"]: p["value"] for p in o.get("props", [])}


def check_oscal(exp, path):
    doc = json.load(open(path))["assessment-results"]
    res = doc["results"][0]
    p = props(res)
    same("oscal decisions", int(p["decisions"]), exp["totals"]["decisions"])
    same("oscal commit length", len(p["commit"]), 40)
    obs = {props(o)["control"]: props(o) for o in res.get("observations", [])}
    same("oscal observations", sorted(obs), sorted(exp["controls"]))
    for k, e in exp["controls"].items():
        if k not in obs:
            continue
        same("oscal " + k, int(obs[k]["decisions"]), e["decisions"])
        for r in RESULTS:
            same("oscal %s %s" % (k, r), int(obs[k][r]), e["results"][r])
        same("oscal %s overdue" % k, int(obs[k]["break-glass-overdue"]),
             e["overdue"])


def check_html(exp, path):
    dom = open(path).read()
    if re.search(r"<script", dom, re.I):
        bad.append("a script in the HTML")
    m = re.search(r'id="decisions">(\d+)<', dom)
    same("html decisions", int(m.group(1)) if m else None,
         exp["totals"]["decisions"])
    for k, e in exp["controls"].items():
        m = re.search(r"<tr><td>%s</td><td>[^<]*</td><td>(\d+)</td>"
                      % re.escape(k), dom)
        same("html " + k, int(m.group(1)) if m else None, e["decisions"])
    if exp["totals"]["decisions"] and dom.count("<svg") < 2:
        bad.append("html: fewer than two charts")


exp = json.load(open(sys.argv[1]))
{"json": check_json, "csv": check_csv, "oscal": check_oscal,
 "html": check_html}[sys.argv[2]](exp, sys.argv[3])
for b in bad:
    print(b)
sys.exit(1 if bad else 0)

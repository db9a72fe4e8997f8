#!/usr/bin/env python3
"""Checks the Adaptive Cards the broker sent to Teams.

    check_card.py SCHEMA ACTIVITIES.json [--hostile TEXT]

ACTIVITIES.json is fake_teams.py's /_control/activities. Every card must
validate against the Adaptive Cards 1.4 JSON schema (tests/data/
adaptivecards), say version 1.4 and stay under Teams' 28 KB. With
--hostile, the card's text that shows TEXT must show it escaped: no
unescaped markdown punctuation, no raw line break, and unescaping gives
the text back. Prints one line per card; exits 1 on the first failure.
"""
import json
import re
import sys

import jsonschema

PUNCT = "\\`*_{}[]()<>#+-.!|~&"


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in PUNCT:
            out.append(s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def unescaped_punct(s):
    i = 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in PUNCT:
            i += 2
            continue
        if s[i] in PUNCT:
            return s[i]
        i += 1
    return None


def texts(node):
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            yield node["text"]
        if "value" in node and "title" in node:
            yield node["value"]
        for v in node.values():
            yield from texts(v)
    elif isinstance(node, list):
        for v in node:
            yield from texts(v)


def main():
    schema = json.load(open(sys.argv[1]))
    acts = json.load(open(sys.argv[2]))
    hostile = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--hostile" \
        else None
    v = jsonschema.Draft6Validator(schema)
    if not acts:
        print("no card was sent")
        return 1
    for a in acts:
        att = a["activity"]["attachments"]
        card = att[0]["content"]
        assert att[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
        errs = sorted(v.iter_errors(card), key=lambda e: list(e.path))
        if errs:
            print("card %s: not an Adaptive Card 1.4: %s at %s" %
                  (a["id"], errs[0].message[:200], list(errs[0].path)))
            return 1
        if card.get("version") != "1.4" or a["bytes"] > 28 * 1024:
            print("card %s: version %s, %d bytes" % (a["id"],
                  card.get("version"), a["bytes"]))
            return 1
        print("ok %s %s %d bytes" % (a["method"], a["id"], a["bytes"]))
        if hostile is None:
            continue
        shown = [t for t in texts(card) if "cut:" in unescape(t) or
                 unescape(t).find(hostile[:20].replace("\n", "\\x0a")) >= 0]
        if not shown:
            print("card %s: the hostile text is not shown" % a["id"])
            return 1
        for t in shown:
            bad = unescaped_punct(t)
            if bad is not None or "\n" in t or "\r" in t:
                print("card %s: unescaped %r in %r" % (a["id"], bad, t[:200]))
                return 1
    return 0


sys.exit(main())

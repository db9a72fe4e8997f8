#!/usr/bin/env python3
"""oscal-validate.py SCHEMA DOC: validates DOC against the OSCAL JSON
schema with python3-jsonschema. OSCAL's patterns use \\p{L} and \\p{N},
which Python's re lacks: the schema is read as published, and its
patterns are matched with the `regex` module (python3-regex), which has
them. Exit 0 valid, 1 invalid (errors on stderr), 2 usage."""
import json
import sys

import jsonschema
import jsonschema._format
import regex

try:
    import jsonschema._keywords as keywords
except ImportError:     # jsonschema before 4.18 (Debian 12's 4.10)
    import jsonschema._validators as keywords

keywords.re = regex
jsonschema._format.re = regex

if len(sys.argv) != 3:
    sys.exit(2)
with open(sys.argv[1]) as f:
    schema = json.load(f)
with open(sys.argv[2]) as f:
    doc = json.load(f)
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(doc))
for e in errors[:20]:
    print("/".join(str(p) for p in e.path) + ": " + e.message[:300],
          file=sys.stderr)
sys.exit(1 if errors else 0)

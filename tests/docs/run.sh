#!/bin/sh
# The console examples of README.md and the manual pages, run and
# compared with what they say (see doctest.py for the format). TAP.
# --pending also runs the examples of behaviour announced but not built.
cd "$(dirname "$0")/../.." || exit 1
exec python3 tests/docs/doctest.py "$@"

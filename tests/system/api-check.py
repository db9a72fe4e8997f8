# api-check.py API.yaml [--only PREFIX | --skip PREFIX...] LOG...: the running
# servers against the OpenAPI description. Every documented route, method
# and status under consideration was answered in the logs; every answer was
# documented (or is the 405 of an undocumented method, or the 404 of an
# undocumented route). --only/--skip choose the routes by path prefix, so
# that each test checks the routes it serves.
import re, sys, yaml
api = yaml.safe_load(open(sys.argv[1]))
assert api["openapi"].startswith("3.")
args = sys.argv[2:]
only, skip = None, []
while args and args[0] in ("--only", "--skip"):
    if args[0] == "--only":
        only = args[1]
    else:
        skip.append(args[1])
    args = args[2:]
def wanted(path):
    return (only is None or path.startswith(only)) and not any(path.startswith(s) for s in skip)
routes = []
for path, ops in api["paths"].items():
    if not wanted(path):
        continue
    rx = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
    for m, op in ops.items():
        if m != "parameters":
            routes.append((rx, path, m.upper(), op["responses"]))
seen = set()
for log in args:
    for line in open(log):
        m = re.search(r"event=request .*method=(\S+) path=\"([^\"]*)\" status=(\d+)", line)
        if m and wanted(m.group(2)):
            seen.add(m.groups())
bad = []
for method, path, status in sorted(seen):
    ops = [r for r in routes if r[0].match(path)]
    if not ops:
        if status != "404": bad.append(("undocumented route answered", method, path, status))
        continue
    op = [r for r in ops if r[2] == method]
    if not op:
        if status != "405": bad.append(("undocumented method answered", method, path, status))
    elif status not in op[0][3] and "default" not in op[0][3]:
        bad.append(("undocumented status", method, path, status))
for rx, path, method, resp in routes:
    for status in resp:
        if status != "default" and not any(m == method and rx.match(p) and s == status for m, p, s in seen):
            bad.append(("documented, never answered", method, path, status))
for b in bad: print(*b)
print(len(seen), "answers checked against", len(routes), "operations")
sys.exit(1 if bad else 0)

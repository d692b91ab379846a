#!/usr/bin/python3
# node_validate.py SCHEMA_DIR < envelope.json: validates every object of a
# TAXII envelope read on stdin against the OASIS STIX 2.1 JSON Schemas
# (draft 2020-12) with Debian's python3-jsonschema, resolving the schemas'
# $ref links from the local copy only.  Prints "checked N skipped M" and
# exits 1 on the first invalid object (printing why).  Objects whose type
# has no schema (custom types) are skipped and counted.
import json, os, sys
import jsonschema

root = sys.argv[1]
store, by_name = {}, {}
for sub in ("common", "sdos", "sros", "observables"):
    for f in os.listdir(os.path.join(root, sub)):
        if f.endswith(".json"):
            with open(os.path.join(root, sub, f)) as fh:
                s = json.load(fh)
            store[s["$id"]] = s
            by_name[f[:-5]] = s
env = json.load(sys.stdin)
checked = skipped = 0
for o in env.get("objects", []):
    s = by_name.get(o.get("type"))
    if s is None or o.get("type") in ("core", "bundle"):
        skipped += 1
        continue
    resolver = jsonschema.RefResolver(base_uri=s["$id"], referrer=s, store=store)
    v = jsonschema.Draft202012Validator(s, resolver=resolver)
    errs = sorted(v.iter_errors(o), key=lambda e: list(e.path))
    if errs:
        print("invalid %s: %s at %s" % (o.get("id"), errs[0].message[:300], list(errs[0].path)))
        sys.exit(1)
    checked += 1
print("checked %d skipped %d" % (checked, skipped))

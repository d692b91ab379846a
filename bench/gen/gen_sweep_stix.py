#!/usr/bin/env python3
"""gen_sweep_stix.py IOCS_FILE > BUNDLE: a STIX 2.1 bundle of 4,000
indicators over the first 4,001 domains of IOCS_FILE (gen_sweep.c iocs),
for sweeps that exercise compile, match-time evaluation and reporting
(docs/sweep.md, "Unchanged figures"): for the first 3,000 domains, in
turn, one comparison, an OR of two in one observation, two observations
joined by OR, and REPEATS 2 TIMES; then 1,000 ANDs of two comparisons in
one observation.  Deterministic."""
import json
import sys

iocs = [l.strip() for l in open(sys.argv[1]) if l.strip()]
objs = []


def ind(i, pat):
    objs.append({"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--00000000-0000-4000-8000-%012d" % i,
                 "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
                 "pattern": pat, "pattern_type": "stix",
                 "valid_from": "2024-01-01T00:00:00Z"})


for k in range(3000):
    a, b = iocs[k], iocs[k + 3000]
    pats = ["[domain-name:value = '%s']" % a,
            "[domain-name:value = '%s' OR domain-name:value = '%s']" % (a, b),
            "[domain-name:value = '%s'] OR [domain-name:value = '%s']" % (a, b),
            "[domain-name:value = '%s'] REPEATS 2 TIMES" % a]
    ind(k, pats[k % 4])
for k in range(3000, 4000):
    ind(k, "[domain-name:value = '%s' AND domain-name:value = '%s']" % (iocs[k], iocs[k + 1]))
json.dump({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
           "objects": objs}, sys.stdout)

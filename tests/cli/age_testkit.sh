#!/usr/bin/env bash
# age_testkit.sh: runs `comity open` over the age test vectors of
# c2sp.org/CCTV/age (the testdata folder of github.com/C2SP/CCTV, not kept in
# this repository) when COMITY_AGE_TESTKIT points at that folder; otherwise
# says it was skipped.  Each vector says what opening it must give: success
# (and the SHA-256 of the plaintext), no match (exit 1), HMAC failure
# (exit 1), header or armor failure (exit 2), payload failure (1 or 2).
# Vectors for features comity does not implement are counted, not failed:
# passphrase-only files and ML-KEM (age1pq) identities.
set -euo pipefail
: "${COMITY_BIN:?}"
dir=${COMITY_AGE_TESTKIT:-}
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "SKIPPED: set COMITY_AGE_TESTKIT to the testdata folder of C2SP/CCTV age/"
  exit 77  # reported by ctest as "Not Run (skipped)", never as a pass
fi
exec python3 - "$COMITY_BIN" "$dir" <<'PY'
import hashlib, os, subprocess, sys, tempfile, zlib
comity, d = sys.argv[1], sys.argv[2]
counts, failed = {}, []
for name in sorted(os.listdir(d)):
    raw = open(os.path.join(d, name), 'rb').read()
    head, body = raw.split(b'\n\n', 1)
    kv, ids = {}, []
    for line in head.decode().split('\n'):
        k, v = line.split(': ', 1)
        (ids.append(v) if k == 'identity' else kv.setdefault(k, v))
    if not ids:
        counts['skipped (passphrase)'] = counts.get('skipped (passphrase)', 0) + 1
        continue
    if any(i.startswith('AGE-SECRET-KEY-PQ-') for i in ids):
        counts['skipped (ML-KEM)'] = counts.get('skipped (ML-KEM)', 0) + 1
        continue
    if kv.get('compressed') == 'zlib':
        body = zlib.decompress(body)
    with tempfile.TemporaryDirectory() as t:
        open(t + '/id', 'w').write('\n'.join(ids) + '\n')
        open(t + '/f', 'wb').write(body)
        p = subprocess.run([comity, 'open', '-i', t + '/id', '-o', t + '/out', t + '/f'],
                           capture_output=True)
        out = open(t + '/out', 'rb').read() if os.path.exists(t + '/out') else None
    want = kv['expect']
    ok = {'success': p.returncode == 0 and out is not None and
                     hashlib.sha256(out).hexdigest() == kv.get('payload'),
          'no match': p.returncode == 1,
          'HMAC failure': p.returncode == 1 and b'MAC' in p.stderr,
          'header failure': p.returncode == 2,
          'armor failure': p.returncode == 2,
          'payload failure': p.returncode in (1, 2) and out is None}.get(want, p.returncode != 0)
    counts['passed' if ok else 'FAILED'] = counts.get('passed' if ok else 'FAILED', 0) + 1
    if not ok:
        failed.append(f'{name}: expect {want}, exit {p.returncode}: {p.stderr.decode().strip()}')
print('\n'.join(failed))
print(', '.join(f'{k}: {v}' for k, v in sorted(counts.items())))
sys.exit(1 if failed else 0)
PY

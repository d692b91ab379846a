#!/usr/bin/env python3
"""bench/worker_cpu.py: CPU per record of the node's HTTP worker threads.

bench_intake prints the CPU per record of the whole server (workers,
committer, log sequencer, store checkpointer together).  This runs it
(epoll generator, one round per run, BENCH_INTAKE_RECORDS records, default
40,000) and reads /proc/PID/task/*/schedstat every 10 ms while it runs: the
run time of the threads named MHD-worker (last value seen per thread; they
are idle when the posting ends), divided by the record count, is the
workers' CPU per record, without perf's overhead.  Given several binaries
(e.g. before and after a change), their runs alternate, so that other load
on the machine hits each alike; per run and in a summary (lowest and median
over the runs) it prints the workers' and the bench's server CPU per record
and the load average.

    bench/worker_cpu.py ROUNDS BENCH_INTAKE [BENCH_INTAKE...]
"""
import os
import re
import statistics
import subprocess
import sys
import time


def run(binary, env, records):
    p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    seen = {}
    while p.poll() is None:
        d = f"/proc/{p.pid}/task"
        try:
            tids = os.listdir(d)
        except OSError:
            break
        for t in tids:
            try:
                with open(f"{d}/{t}/comm") as f:
                    comm = f.read().strip()
                with open(f"{d}/{t}/schedstat") as f:
                    ns = int(f.read().split()[0])
            except OSError:
                continue
            seen[(t, comm)] = ns
        time.sleep(0.01)
    out = p.communicate()[0]
    lines = [l for l in out.splitlines() if l.strip().startswith("epoll ")]
    if p.returncode != 0 or not lines:
        sys.exit(f"{binary} failed:\n{out[-2000:]}")
    m = re.search(r"(\d+) records/s.*= +(\d+) server", lines[0])
    ok = "refused 0" in lines[0] and "logged: all" in lines[0]
    worker = sum(v for (t, c), v in seen.items() if c.startswith("MHD-worker"))
    return worker / 1e3 / records, int(m.group(2)), int(m.group(1)), ok


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds, bins = int(sys.argv[1]), sys.argv[2:]
    records = int(os.environ.get("BENCH_INTAKE_RECORDS", "40000"))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, BENCH_INTAKE_ROUNDS="1", BENCH_INTAKE_GEN="epoll",
               BENCH_INTAKE_NO_BASELINE="1", BENCH_INTAKE_AUTHORS="0",
               BENCH_INTAKE_RECORDS=str(records))
    env.setdefault("COMITY_SHARED", os.path.join(root, "..", "shared"))
    res = {b: [] for b in bins}
    for i in range(rounds):
        for b in bins:
            load = os.getloadavg()
            w, s, rate, ok = run(b, env, records)
            res[b].append((w, s))
            print(f"round {i + 1} {b}: workers {w:6.1f} us/record, server {s} us/record, "
                  f"{rate} records/s, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
                  f"{'' if ok else '  ERRORS (refused or not logged)'}", flush=True)
    print("lowest / median per record:")
    for b in bins:
        ws = [r[0] for r in res[b]]
        ss = [r[1] for r in res[b]]
        print(f"  {b}: workers {min(ws):.1f} / {statistics.median(ws):.1f} us, "
              f"server {min(ss)} / {statistics.median(ss):.0f} us")


if __name__ == "__main__":
    main()

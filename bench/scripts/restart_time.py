#!/usr/bin/env python3
"""Times restarts of etcd binaries on fresh copies of one data dir, alternating A B B A.

usage: restart_time.py DATA_DIR EXPECTED_VALUE ROUNDS BIN...

DATA_DIR is a stopped member's data dir whose member is named machine1 (as the bench's, kept
with BENCH_KEEP_DATA_DIR); a restart is timed from the process start to the first GET of
/fill/last that answers EXPECTED_VALUE. Prints ms and RSS per run, the server's own phase
log lines, and the sorted figures per binary. Loopback only; every wait is bounded.
"""
import subprocess, sys, time, shutil, tempfile, urllib.request, json, os, re
data, expected, rounds, bins = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
# Beside the data dir, so the copy stays on the same disk.
SCRATCH = tempfile.mkdtemp(prefix="restart-time-", dir=os.path.dirname(os.path.abspath(data)))
def run(bin_, i):
    scratch = os.path.join(SCRATCH, "data")
    shutil.rmtree(scratch, ignore_errors=True)
    subprocess.run(["cp", "-a", data, scratch], check=True)
    subprocess.run(["sync"])
    port = 24001 + i % 50
    log = open(os.path.join(SCRATCH, f"restart_{i}.log"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen([bin_, "-name", "machine1", "-data-dir", scratch, "-addr", f"127.0.0.1:{port}",
                          "-peer-addr", f"127.0.0.1:{port+1000}"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v2/keys/fill/last"
    ms = None
    for _ in range(24000):
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if json.load(r)["node"]["value"] == expected:
                    ms = (time.monotonic() - t0) * 1e3
                    break
        except Exception:
            pass
        time.sleep(0.005)
    rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{p.pid}/status").read()).group(1)) / 1024
    p.terminate(); p.wait()
    phases = [l.strip()[:200] for l in open(os.path.join(SCRATCH, f"restart_{i}.log")) if re.search(r"restored|read the log|applied the log|raft node started|caught up|opened", l)]
    return ms, rss, phases
order = []
for r in range(rounds):
    order += bins if r % 2 == 0 else bins[::-1]
res = {b: [] for b in bins}
for i, b in enumerate(order):
    ms, rss, phases = run(b, i)
    res[b].append((ms, rss))
    print(f"{b}: {ms:.0f} ms, RSS {rss:.0f} MiB", flush=True)
    for ph in phases: print("   ", ph)
for b in bins:
    print(b, "ms:", sorted(round(m) for m, _ in res[b]), "RSS:", sorted(round(r) for _, r in res[b]))
shutil.rmtree(SCRATCH, ignore_errors=True)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/report.py SCRATCH RATE1 RATE2 -- ratios of zonekeeper to each peer and to the
machine's crypto bound, from the results of bench.sh (medians of the repeated runs)."""
import csv
import glob
import json
import os
import statistics
import sys

w = sys.argv[1]
rate2 = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
rows = []
for f in ("results-peers.tsv", "results-full.tsv"):
    p = os.path.join(w, f)
    if os.path.exists(p):
        rows += list(csv.DictReader(open(p), delimiter="\t"))


def sigs(n, mode):
    for line in open(os.path.join(w, "zones", "z%s.stats" % n)):
        k, v = line.split(":")
        if k.strip() == "sigs_" + mode:
            return int(v)
    return 0


med = {}
for r in rows:
    if r["rc"] != "0":
        continue
    k = (int(r["size"]), r["mode"], r["peer"])
    med.setdefault(k, []).append((float(r["wall_s"]), int(r["maxrss_kb"])))


def verify_seconds(peer, mode, n):
    vals = []
    for log in glob.glob(os.path.join(w, "logs", "%s-%s-z%d-r*.log" % (peer, mode, n))):
        try:
            data = json.loads(open(log).read()[open(log).read().index("["):])
            vals.append(data[0]["seconds"]["verify"])
        except (ValueError, KeyError, IndexError):
            pass
    return statistics.median(vals) if vals else None


print("\nzonekeeper against the peers (same run; medians; ratio = peer time / zonekeeper time,"
      " >1 means zonekeeper is faster)")
print("%-8s %-6s %-8s %9s %8s %9s %8s %9s %9s" % ("names", "denial", "signer", "wall_s",
                                                   "rss_MiB", "sigs/s", "x_bound", "zk_ratio",
                                                   "verify_s"))
for n, mode in sorted({(k[0], k[1]) for k in med}):
    bound = sigs(n, mode) / rate2 if rate2 else 0
    zk = med.get((n, mode, "zk"))
    zk_wall = statistics.median(x[0] for x in zk) if zk else None
    for peer in sorted(p for (m, d, p) in med if (m, d) == (n, mode)):
        vals = med[(n, mode, peer)]
        wall = statistics.median(x[0] for x in vals)
        rss = statistics.median(x[1] for x in vals) / 1024
        ratio = "" if not zk_wall or peer.startswith("zk") else "%.2f" % (wall / zk_wall)
        vs = verify_seconds(peer, mode, n) if peer.startswith("zk") else None
        print("%-8d %-6s %-8s %9.2f %8.0f %9.0f %8s %9s %9s" % (
            n, mode, peer, wall, rss, sigs(n, mode) / wall,
            "%.2f" % (wall / bound) if bound else "", ratio,
            "%.2f" % vs if vs is not None else ""))
print("\nx_bound: wall time / (signatures to make / (openssl speed ECDSA P-256 signs/s on all"
      " cores = %.0f))" % rate2)

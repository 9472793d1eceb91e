#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/spread_report.py LOG T0 DAYS ZONES [SIGN_LOG] -- publications of bench/spread.sh's
run per simulated hour and per zone per week, from zonekeeperd's log (its zones use
`serial = "unixtime"`: a publication's serial is the simulated second it was made at) and
the first signing's, `zonekeeper sign`'s output."""
import collections
import re
import sys

log, t0, days, n_zones = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
PUB = re.compile(r"\]: (\S+): published serial (\d+)[^:]*: (\d+) signatures made")
HOUR, DAY = 3600, 86400

pubs = []                                   # (simulated time, zone, signatures made)
for line in open(log, errors="replace"):
    m = PUB.search(line)
    if m:
        pubs.append((int(m.group(2)), m.group(1), int(m.group(3))))
if len(sys.argv) > 5:
    first = re.findall(r"^(\S+): published serial (\d+)", open(sys.argv[5]).read(), re.M)
    at = sorted({int(t) for _, t in first})
    print("first signing: %d zones, by zonekeeper sign at %s" % (len(first), at))
first = [p for p in pubs if p[0] < t0 + HOUR]
later = [p for p in pubs if t0 + HOUR <= p[0] < t0 + days * DAY]
print("zonekeeperd: %d publications in the first hour, %d signatures"
      % (len(first), sum(p[2] for p in first)))
print("after it: %d publications, %d signatures, %.1f signatures a publication"
      % (len(later), sum(p[2] for p in later), sum(p[2] for p in later) / max(1, len(later))))

# per simulated hour, over the hours after the first signing
per_hour = collections.Counter((t - t0) // HOUR for t, _, _ in later)
hours = range(1, days * 24)
counts = [per_hour.get(h, 0) for h in hours]
busy = sorted(c for c in counts if c)
print("\npublications per simulated hour (%d hours):" % len(counts))
if busy:
    print("  hours with any: %d; in those hours: median %d, p90 %d, max %d"
          % (len(busy), busy[len(busy) // 2], busy[int(len(busy) * 0.9)], busy[-1]))
edges = [(0, 0), (1, 1), (2, 5), (6, 20), (21, 50), (51, 100), (101, 10 ** 9)]
print("  " + "  ".join("%s: %d" % ("%d" % lo if lo == hi else "%d+" % lo if hi > 10 ** 8
                                   else "%d-%d" % (lo, hi),
                                   sum(lo <= c <= hi for c in counts)) for lo, hi in edges))

print("\nday  publications  hours-with-any  max-in-an-hour  signatures")
for d in range(days):
    c = [per_hour.get(h, 0) for h in range(d * 24, d * 24 + 24) if h >= 1]
    sigs = sum(s for t, _, s in later if d * DAY <= t - t0 < (d + 1) * DAY)
    if sum(c):
        print("%3d  %12d  %14d  %14d  %10d" % (d, sum(c), sum(1 for x in c if x), max(c), sigs))

print("\npublications per zone per week (first signing left out):")
for w in range((days + 6) // 7):
    lo, hi = t0 + w * 7 * DAY, min(t0 + (w + 1) * 7 * DAY, t0 + days * DAY)
    per_zone = collections.Counter(z for t, z, _ in later if lo <= t < hi)
    v = [per_zone.get(z, 0) for z in {p[1] for p in pubs}] or [0]
    print("  week %d (days %d-%d): mean %.1f, min %d, max %d"
          % (w + 1, w * 7, (hi - t0) // DAY, sum(v) / max(1, n_zones), min(v), max(v)))

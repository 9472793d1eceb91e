#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# bench/zones_report.py RESULTS.json -- the table of bench/zones.sh: each figure for
# zonekeeperd and Knot and the ratio zonekeeperd/Knot (below 1: zonekeeperd takes less
# time, CPU, memory or descriptors). Prints Markdown on stdout and adds the rows to the
# JSON file as "figures" ([{"figure", "zonekeeper", "knot", "ratio"}...]).
import json
import statistics
import sys


def med(runs, key):
    v = [r[key] for r in runs or [] if r.get(key) is not None]
    return statistics.median(v) if v else None


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def main():
    path = sys.argv[1]
    res = json.load(open(path))
    zk, kn = res.get("zonekeeper", {}), res.get("knot", {})
    rows = []

    def row(label, a, b, fmt="%.2f", ratio=True):
        rows.append((label, a, b, fmt, ratio))

    rnd = res.get("rounds", 1)
    m = " (median of %d)" % rnd if rnd > 1 else ""
    row("cold start to all zones signed on disk, wall s" + m,
        med(zk.get("cold"), "wall_s"), med(kn.get("cold"), "wall_s"))
    row("cold start, CPU s (user+sys)" + m, med(zk.get("cold"), "cpu_s"),
        med(kn.get("cold"), "cpu_s"))
    row("cold start, peak RSS MiB" + m, med(zk.get("cold"), "peak_rss_mib"),
        med(kn.get("cold"), "peak_rss_mib"), "%.0f")
    row("open fds once all zones are signed" + m, med(zk.get("cold"), "fds"),
        med(kn.get("cold"), "fds"), "%d")
    row("restart, unchanged input, to ready: wall s" + m,
        med(zk.get("restart"), "wall_s"), med(kn.get("restart"), "wall_s"))
    row("restart to ready, CPU s" + m, med(zk.get("restart"), "cpu_s"),
        med(kn.get("restart"), "cpu_s"))
    row("zones whose serial changed on restart", med(zk.get("restart"), "serials_changed"),
        med(kn.get("restart"), "serials_changed"), "%d", False)
    w = res.get("writes")
    row("record write to signed (zk: ?wait=published answered; Knot: served signed), p50 ms",
        get(zk, "writes", "published", "p50_ms"), get(kn, "writes", "published", "p50_ms"))
    row("record write to signed, p99 ms", get(zk, "writes", "published", "p99_ms"),
        get(kn, "writes", "published", "p99_ms"))
    for k, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
        row("record write to signed zone file on disk, %s ms" % what,
            get(zk, "writes", "on_disk", k), get(kn, "writes", "on_disk", k))
    row("server CPU s for the %s writes" % w, get(zk, "writes", "cpu_s"),
        get(kn, "writes", "cpu_s"))
    row("peak RSS after restart + writes, MiB",
        get(zk, "end", "peak_rss_mib"), get(kn, "end", "peak_rss_mib"), "%.0f")
    row("open fds after the writes", get(zk, "end", "fds"), get(kn, "end", "fds"), "%d")
    zna = get(zk, "creates", "na")
    for k, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
        row("zone create to signed (zk: ?wait=published; Knot: SOA served with RRSIG),"
            " %s ms" % what,
            zna or get(zk, "creates", "published", k), get(kn, "creates", "published", k))
    for k, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
        row("zone create to signed zone file on disk, %s ms" % what,
            zna or get(zk, "creates", "on_disk", k), get(kn, "creates", "on_disk", k))

    def fmt(v, f, failed=None):
        if v is None:
            return "failed" if failed else "n/a"
        if isinstance(v, str):
            return v
        return f % v

    out = []
    print("%d zones, %.0f records each (%d in all); %d core(s); %s; %s; client %s;"
          " open files limit %s" % (
              res["zones"], res["records_per_zone"], res["records"], res["cores"],
              res["versions"].get("zonekeeper", "?"), res["versions"].get("knot", "?"),
              res["client"], res.get("nofile_limit", "?")))
    print()
    print("| figure | zonekeeperd | Knot | zonekeeperd/Knot |")
    print("|---|---:|---:|---:|")
    for label, a, b, f, ratio in rows:
        r = None
        if ratio and isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
            r = a / b
        print("| %s | %s | %s | %s |" % (label, fmt(a, f, zk.get("failed")),
                                         fmt(b, f, kn.get("failed")),
                                         "%.2f" % r if r is not None else "n/a"))
        out.append({"figure": label, "zonekeeper": a, "knot": b,
                    "ratio": round(r, 3) if r is not None else None})
    print()
    notes = []
    for key, name in (("zonekeeper", "zonekeeperd"), ("knot", "knotd")):
        s = res.get(key, {})
        ver = [(c.get("verified", 0), c.get("verify_failed", [])) for c in s.get("cold", [])]
        nv = sum(v for v, _ in ver)
        bad = [x for _, f in ver for x in f]
        lg = s.get("log", {})
        notes.append("%s: signed files checked (zonekeeper verify, random sample): %d, failed %d%s;"
                     " log: %s errors, %s warnings"
                     % (name, nv, len(bad), (" (" + "; ".join(bad)[:300] + ")") if bad else "",
                        lg.get("errors", "?"), lg.get("warnings", "?")))
    for key, name in (("zonekeeper", "zonekeeperd"), ("knot", "knotd")):
        if res.get(key, {}).get("failed"):
            notes.append("%s FAILED in %s" % (name, res[key]["failed"]))
    for n in notes:
        print(n)
    print("load average at start %s, at end %s; whole run %.0f s" % (
        " ".join(res.get("loadavg_start", [])), " ".join(res.get("loadavg_end", [])),
        res.get("wall_total_s", 0)))
    res["figures"] = out
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

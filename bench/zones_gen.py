#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# bench/zones_gen.py -- many small customer zones for bench/zones.sh.
#
#   zones_gen.py OUT_DIR FIRST COUNT [SEED]
#       writes OUT_DIR/<zone>.zone for zones FIRST .. FIRST+COUNT-1 and prints their names
#       (one a line, with the final dot). The same (index, SEED) always gives the same bytes.
#   zones_gen.py --name INDEX
#       prints the name of zone INDEX.
#
# A zone is a plausible customer zone of about 100 records: SOA and the platform's apex NS
# (ns1/ns2.example.net., what bench/zones.sh puts in zonekeeper's policy, so both servers
# publish the same NS RRset), apex A/AAAA/MX/TXT (SPF)/CAA, _dmarc TXT, www CNAME, two
# mail hosts, ~58 hosts with A (a third also AAAA: ~80 host records; a few TXT), two SRV,
# one delegation with two out-of-bailiwick NS and a DS. No glue, no wildcard, nothing
# either server would refuse or rewrite.
import hashlib
import os
import random
import sys

TTL = 3600
NAMESERVERS = ("ns1.example.net.", "ns2.example.net.")


def zone_name(i):
    return "cust%06d.test." % i


def zone_text(i, seed):
    z = zone_name(i)
    rng = random.Random("%d/%d" % (seed, i))
    out = []

    def rr(owner, rtype, rdata, ttl=TTL):
        out.append("%s\t%d\tIN\t%s\t%s" % (owner, ttl, rtype, rdata))

    def v4():
        return "198.51.%d.%d" % (rng.randrange(0, 100), rng.randrange(1, 255))

    def v6():
        return "2001:db8:%x:%x::%x" % (rng.randrange(0, 0xffff), rng.randrange(0, 0xffff),
                                        rng.randrange(1, 0xffff))

    rr(z, "SOA", "%s hostmaster.%s 2024010101 3600 900 518400 3600" % (NAMESERVERS[0], z))
    for ns in NAMESERVERS:
        rr(z, "NS", ns)
    rr(z, "A", v4())
    rr(z, "AAAA", v6())
    rr(z, "MX", "10 mx1.%s" % z)
    rr(z, "MX", "20 mx2.%s" % z)
    rr(z, "TXT", '"v=spf1 mx a:mx1.%s include:_spf.example.net ~all"' % z)
    rr(z, "TXT", '"site-verification=%s"' % hashlib.sha256(z.encode()).hexdigest()[:32])
    rr(z, "CAA", '0 issue "letsencrypt.org"')
    rr(z, "CAA", '0 iodef "mailto:security@%s"' % z.rstrip("."))
    rr("_dmarc." + z, "TXT", '"v=DMARC1; p=quarantine; rua=mailto:dmarc@%s"' % z.rstrip("."))
    rr("www." + z, "CNAME", z)
    for m in ("mx1", "mx2"):
        rr("%s.%s" % (m, z), "A", v4())
        rr("%s.%s" % (m, z), "AAAA", v6())
    kinds = ("app", "api", "db", "vpn", "git", "ci", "cdn", "srv", "node", "web")
    hosts = 54 + rng.randrange(0, 9)
    for h in range(hosts):
        owner = "%s%d.%s" % (kinds[h % len(kinds)], h, z)
        rr(owner, "A", v4())
        if h % 3 == 0:
            rr(owner, "AAAA", v6())
        if h % 16 == 5:
            rr(owner, "TXT", '"host %d"' % h)
    rr("sip.%s" % z, "A", v4())
    rr("_sip._tcp." + z, "SRV", "10 60 5060 sip.%s" % z)
    rr("_xmpp-client._tcp." + z, "SRV", "5 0 5222 app0.%s" % z)
    sub = "shop." + z
    rr(sub, "NS", "ns1.shop-host.example.")
    rr(sub, "NS", "ns2.shop-host.example.")
    rr(sub, "DS", "%d 13 2 %s" % (rng.randrange(1, 65535),
                                  hashlib.sha256(sub.encode()).hexdigest().upper()))
    return "\n".join(out) + "\n"


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "--name":
        print(zone_name(int(a[1])))
        return 0
    if len(a) not in (3, 4):
        with open(__file__) as f:
            sys.stderr.write(f.read().split("\nimport ")[0])
        return 2
    out_dir, first, count = a[0], int(a[1]), int(a[2])
    seed = int(a[3]) if len(a) == 4 else 42
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for i in range(first, first + count):
        z = zone_name(i)
        with open(os.path.join(out_dir, z + "zone"), "w") as f:
            f.write(zone_text(i, seed))
        names.append(z)
    sys.stdout.write("\n".join(names) + ("\n" if names else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: MIT
"""Zones for the tests, written out deterministically."""

SIMPLE = """\
$ORIGIN {origin}
$TTL 3600
@       IN SOA  ns1.example.net. hostmaster 1 7200 3600 1209600 3600
        IN NS   ns1.example.net.
        IN MX   10 mail
        IN A    192.0.2.1
www     IN A    192.0.2.2
mail    IN A    192.0.2.25
"""


def edge_zone(origin="edge.test.", longest_name=True):
    """Every shape a user can write that a signer can get wrong (issue: signer edge cases).
    longest_name=False leaves out the 255-octet name: NSD 4.6.1 crashes (SIGSEGV while
    loading) on a 255-octet owner in an NSEC3 zone, so the tests that serve the zone through
    NSD cannot have it; the offline validators check it."""
    o = origin
    lines = [
        "$ORIGIN %s" % o,
        "$TTL 3600",
        "@ IN SOA ns1.example.net. hostmaster.%s 1 7200 3600 1209600 3600" % o,
        "@ IN NS ns1.example.net.",
        "@ IN NS ns2.example.net.",
        "@ IN A 192.0.2.1",
        "@ IN MX 10 mail",
        "@ IN TXT \"v=spf1 -all\"",
        "@ IN CAA 0 issue \"letsencrypt.org\"",
        "@ IN CAA 128 tbs \"Unknown\"",
        "www IN A 192.0.2.2",
        "www IN AAAA 2001:db8::2",
        "mail IN A 192.0.2.25",
        # wildcards, one with several types, one below an ENT
        "*.wild IN A 192.0.2.80",
        "*.wild IN TXT \"wildcard\"",
        "*.deep.ent IN AAAA 2001:db8::80",
        # empty non-terminals: a.b.c.ent exists, b.c.ent and c.ent do not
        "a.b.c.ent IN A 192.0.2.3",
        "_443._tcp.www IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
        "_sip._udp IN SRV 10 60 5060 sip",
        "sip IN A 192.0.2.26",
        "sip IN SSHFP 4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
        "svc IN SVCB 1 svc-target alpn=h2,h3 port=8443",
        "@ IN HTTPS 1 . alpn=h2",
        "naptr IN NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp",
        # secure delegation (with glue and DS), an insecure one, one out of bailiwick
        "sub IN NS ns1.sub",
        "sub IN NS ns2.sub",
        "sub IN DS 60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A",
        "ns1.sub IN A 192.0.2.53",
        "ns2.sub IN AAAA 2001:db8::53",
        "insecure IN NS ns.insecure",
        "ns.insecure IN A 192.0.2.54",
        "legacy IN NS ns.other.example.",
        # escapes and mixed case
        "MiXeD.CaSe IN A 192.0.2.4",
        "esc\\.aped\\032name IN TXT \"quote \\\" and backslash \\\\ and \\255 octet\"",
        "semi\\;colon IN A 192.0.2.5",
        # long TXT: several 255-octet strings
        "long IN TXT " + " ".join('"' + ("%c" % (97 + i)) * 255 + '"' for i in range(8)),
        # RFC 3597: an unknown type, and a known type in generic form
        "generic IN TYPE65280 \\# 4 0A000001",
        "generic IN TYPE65281 \\# 0",
        "generic-a IN A \\# 4 C0000206",
        "cname IN CNAME www",
        "ptr IN PTR www.%s" % o,
    ]
    # a 500-record RRset
    lines += ["big IN A 10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256)
              for i in range(500)]
    # a 255-octet name: 3 labels of 63, one of 51, then the 2 labels of edge.test.
    apex_len = sum(len(l) + 1 for l in o.rstrip(".").split(".")) + 1
    rest = 255 - apex_len - 3 * 64
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * (rest - 1)])
    if longest_name:
        lines.append("%s IN A 192.0.2.6" % name)
    return "\n".join(lines) + "\n"


def child_zone(origin, extra=""):
    return ("$ORIGIN {o}\n$TTL 3600\n@ IN SOA ns1.example.net. hostmaster.{o} 1 7200 3600 "
            "1209600 3600\n@ IN NS ns1\n@ IN NS ns2\nns1 IN A 192.0.2.53\n"
            "ns2 IN AAAA 2001:db8::53\nhost IN A 192.0.2.60\n{x}").format(o=origin, x=extra)

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rules and per-source limits through the real program (net_pcap): config/rules/scanners.toml
drops scanners' INVITEs and OPTIONS (counted rule_blocked), a route rule sends a number prefix
to its own pool, a reject rule answers 403, everything else is redirected to the default pool;
a source sending a burst past its bucket gets its first `burst` requests answered and the rest
dropped (source_rate_limited), while an allow-listed source sending the same is not limited.
The replay takes milliseconds, far less than the one second in which a bucket earns a token
back, so the counts are exact."""
import os
import re
import sys
import tempfile

from harness import pcap, run_sipredir, status_code, tap, udp_payload

BURST = 5
FLOOD = 20

CONFIG = """
[listen]
addresses = ["198.18.0.1"]
ports = [5060]
promiscuous = true

[sip]
to_tag_key = "73697072656469722d62656e63682d31"
request_hash_key = "73697072656469722d62656e63682d32"

[limits]
rate = 1
burst = {burst}
allow = ["198.18.0.50/32"]

[[rule]]
name = "Berlin numbers"
field = "request-uri-user"
prefix = "+4930"
action = "route"
pool = "berlin"

[[rule]]
name = "a known fraudster"
field = "from-user"
exact = "+4966600000"
action = "reject"

[rules]
file = "{scanners}"

[[backend]]
name = "b1"
address = "198.18.1.1:5060"

[[backend]]
name = "b4"
address = "198.18.1.4:5060"

[[pool]]
name = "default"
policy = "wrr"
backends = ["b1"]

[[pool]]
name = "berlin"
policy = "wrr"
backends = ["b4"]
"""


def request(method, n, user="+4940123456", from_user="+4940987654", agent="phone/1.0"):
    return (
        f"{method} sip:{user}@198.18.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bK-rules-{n}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{from_user}@198.18.0.2>;tag=r{n}\r\n"
        f"To: <sip:{user}@198.18.0.1>\r\n"
        f"Call-ID: rules-{n}@198.18.0.2\r\n"
        f"CSeq: 1 {method}\r\n"
        f"User-Agent: {agent}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


# The Contact's user@host: the dialled user kept, at the chosen backend.
CONTACT = re.compile(rb"^Contact: <sip:([^@>]*@[0-9.]+):", re.M)


def main(program, root):
    t = tap()
    cases = [  # (name, source, sport, payload, expected code or None, contact user@host)
        ("friendly-scanner INVITE", "198.18.0.11", 30001,
         request("INVITE", 1, agent="friendly-scanner"), None, None),
        ("SIPVicious OPTIONS (caseless)", "198.18.0.12", 30002,
         request("OPTIONS", 2, agent="sipvicious 0.3.4"), None, None),
        ("a Berlin number goes to its pool", "198.18.0.13", 30003,
         request("INVITE", 3, user="+4930123456"), 302, b"+4930123456@198.18.1.4"),
        ("a fraudster is rejected", "198.18.0.14", 30004,
         request("INVITE", 4, from_user="+4966600000"), 403, None),
        ("anyone else goes to the default pool", "198.18.0.15", 30005,
         request("INVITE", 5), 302, b"+4940123456@198.18.1.1"),
    ]
    frames = [pcap.udp_frame(p, src=src, sport=sport) for _, src, sport, p, _, _ in cases]
    # One flooding source and one allow-listed source, FLOOD requests each.
    for i in range(FLOOD):
        frames.append(pcap.udp_frame(request("INVITE", 100 + i), src="198.18.0.99", sport=31000 + i))
        frames.append(pcap.udp_frame(request("INVITE", 200 + i), src="198.18.0.50", sport=32000 + i))

    with tempfile.TemporaryDirectory() as work:
        config = os.path.join(work, "rules.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(burst=BURST,
                                  scanners=os.path.abspath(os.path.join(root, "config", "rules", "scanners.toml"))))
        replies, stats = run_sipredir(program, config, frames, work)

    by_port = {}
    for r in replies:
        udp = udp_payload(r)
        if udp is not None:
            by_port.setdefault(udp[1], []).append(udp[2])
    for name, _, sport, _, code, contact in cases:
        got = by_port.get(sport, [])
        if code is None:
            t.check(not got, f"{name}: dropped", f"got {len(got)} replies")
            continue
        codes = [status_code(p) for p in got]
        ok = codes == [code]
        if ok and contact is not None:
            m = CONTACT.search(got[0])
            ok = m is not None and m.group(1) == contact
        t.check(ok, f"{name}: {code}" + (f" to {contact.decode()}" if contact else ""),
                got[0][:400] if got else "no reply")

    flooded = sum(len(by_port.get(31000 + i, [])) for i in range(FLOOD))
    allowed = sum(len(by_port.get(32000 + i, [])) for i in range(FLOOD))
    t.check(flooded == BURST, f"a flooding source gets its burst of {BURST} answered, no more",
            flooded)
    t.check(allowed == FLOOD, "an allow-listed source is never limited", allowed)

    drops = stats["dropped_by_cause"]
    t.check(drops.get("rule_blocked") == 2, "rule_blocked counts the two scanners", drops)
    t.check(drops.get("source_rate_limited") == FLOOD - BURST,
            "source_rate_limited counts the flood's excess", drops)
    t.check(stats["replies_by_code"]["403"] == 1, "one 403", stats["replies_by_code"])
    t.check(stats["received_frames"] == len(frames) and stats["accounting_balanced"],
            "every frame received and accounted",
            {k: stats[k] for k in ("received_frames", "replies", "absorbed", "exception_frames", "dropped")})
    t.check(stats["replies"] == len(replies), "replied counts the replies sent",
            f"{stats['replies']} vs {len(replies)}")
    return t.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

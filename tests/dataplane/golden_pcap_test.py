#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Golden packet tests through the real program: each request frame (INVITE, OPTIONS, ACK,
CANCEL, Max-Forwards 0, malformed, VLAN-tagged, IPv6, IPv4 fragments, ARP) goes in through
net_pcap and the reply frames that come out are compared byte for byte with
tests/golden/pcap/replies.txt. SIPREDIR_GOLDEN_UPDATE=1 rewrites that file (read it by eye)."""
import os
import sys
import tempfile

from harness import join_fragments, pcap, run_sipredir, tap, udp_payload


def request(method, branch, extra="", body="", ruri="sip:alice@198.18.0.1", host="198.18.0.2",
            cseq_method=None):
    lines = [
        f"{method} {ruri} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:5061;branch=z9hG4bK{branch}",
        "Max-Forwards: 70",
        f"From: <sip:bob@{host}>;tag=f-{branch}",
        "To: <sip:alice@198.18.0.1>",
        f"Call-ID: {branch}@golden",
        f"CSeq: 1 {cseq_method or method}",
    ]
    if extra:
        lines.append(extra)
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP = "v=0\r\no=- 1 1 IN IP4 198.18.0.2\r\ns=-\r\nc=IN IP4 198.18.0.2\r\nt=0 0\r\n" + \
    "".join(f"a=x-filler-{i:04d}:{'y' * 40}\r\n" for i in range(50))


def cases():
    """(name, frames); every case's frames come from its own UDP source port."""
    v6 = dict(src="2001:db8::2", dst="2001:db8::1")
    return [
        ("invite", [pcap.udp_frame(request("INVITE", "inv1"), sport=30001)]),
        ("options", [pcap.udp_frame(request("OPTIONS", "opt1"), sport=30002)]),
        ("ack", [pcap.udp_frame(request("ACK", "inv1"), sport=30003)]),
        ("cancel", [pcap.udp_frame(request("CANCEL", "inv1"), sport=30004)]),
        ("max-forwards-0",
         [pcap.udp_frame(request("INVITE", "mf0").replace(b"Max-Forwards: 70",
                                                          b"Max-Forwards: 0"), sport=30005)]),
        ("malformed-cseq",
         [pcap.udp_frame(request("INVITE", "bad1").replace(b"CSeq: 1 INVITE",
                                                           b"CSeq: one INVITE"), sport=30006)]),
        ("not-sip", [pcap.udp_frame(b"\x00\x01 hello\r\n\r\n", sport=30007)]),
        ("vlan-100", [pcap.udp_frame(request("INVITE", "vlan1"), sport=30008, vlans=(100,))]),
        ("ipv6", [pcap.udp_frame(request("INVITE", "six1", host="[2001:db8::2]"), sport=30009,
                                 **v6)]),
        ("ipv4-fragments",
         pcap.ipv4_fragments(request("INVITE", "frag1", extra="Content-Type: application/sdp",
                                     body=SDP), 1480, sport=30010)),
        ("message-405", [pcap.udp_frame(request("MESSAGE", "msg1"), sport=30011)]),
        ("arp", [pcap.arp_request()]),
        # Via elements that are not via-parms: a 400 while it stays small; with 63 of them the
        # 400 would carry 63 more Via lines than the request, and is dropped instead.
        ("junk-via-elements-400",
         [pcap.udp_frame(request("INVITE", "junk3").replace(b";branch=z9hG4bKjunk3",
                                                            b";branch=z9hG4bKjunk3,x,x,x"),
                         sport=30013)]),
        ("junk-via-elements-not-amplified",
         [pcap.udp_frame(request("INVITE", "junk63").replace(b";branch=z9hG4bKjunk63",
                                                             b";branch=z9hG4bKjunk63" + b",x" * 63),
                         sport=30014)]),
    ]


def render(name, frames):
    out = [f"## {name}"]
    for f in frames:
        udp = udp_payload(f)
        if udp is not None:
            out += ["# " + line for line in udp[2].decode("latin-1").split("\r\n") if line]
        out += [f[i:i + 32].hex() for i in range(0, len(f), 32)]
        out.append("")
    return "\n".join(out) + "\n"


def main(program, root):
    all_cases = cases()
    frames = [f for _, fs in all_cases for f in fs]
    with tempfile.TemporaryDirectory() as work:
        replies, stats = run_sipredir(
            program, os.path.join(root, "tests", "data", "dataplane", "golden.toml"), frames, work)
    frames_sent = len(replies)
    replies = join_fragments(replies)
    by_port = {}
    for r in replies:
        udp = udp_payload(r)
        by_port.setdefault(udp[1] if udp else None, []).append(r)
    text = "".join(render(name, by_port.get(30001 + i, [])) for i, (name, _) in enumerate(all_cases))
    golden = os.path.join(root, "tests", "golden", "pcap", "replies.txt")
    if os.environ.get("SIPREDIR_GOLDEN_UPDATE") == "1":
        with open(golden, "w") as f:
            f.write(text)
    with open(golden) as f:
        expected = f.read()
    t = tap()
    got_sections = text.split("## ")[1:]
    want_sections = expected.split("## ")[1:]
    t.check(len(got_sections) == len(want_sections), "one section per case")
    for got, want in zip(got_sections, want_sections):
        name = got.split("\n", 1)[0]
        t.check(got == want, f"{name}: reply frames byte-exact",
                f"expected:\n{want}\ngot:\n{got}")
    t.check(None not in by_port, "every reply is UDP", by_port.get(None))
    t.check(stats["received_frames"] == len(frames), "every frame received", stats["received_frames"])
    t.check(stats["accounting_balanced"], "rx = replied + absorbed + to_exception + dropped + "
            "fragments merged", stats)
    t.check(stats["absorbed"] == 1, "the ACK absorbed", stats["absorbed"])
    t.check(stats["dropped_by_cause"]["sip_start_line_bad"] == 1, "not-SIP dropped and counted")
    t.check(stats["dropped_by_cause"]["no_exception_path"] == 1,
            "ARP counted as having no exception path")
    t.check(stats["dropped_by_cause"]["reply_amplification"] == 1,
            "the 400 to 63 junk Via elements dropped and counted", stats["dropped_by_cause"])
    t.check(stats["bad_requests_by_defect"].get("parse_via_element_bad") == 1,
            "the 400 to 3 junk Via elements sent and counted", stats["bad_requests_by_defect"])
    fragments = len(dict(all_cases)["ipv4-fragments"])
    t.check(fragments > 1 and stats["fragments_merged"] == fragments - 1,
            f"{fragments} fragments merged into one datagram", stats["fragments_merged"])
    port = stats["port"]
    t.check(port["ipackets"] == stats["received_frames"], "the port's ipackets equal the workers' rx", port)
    t.check(port["imissed"] == 0 and port["rx_nombuf"] == 0, "nothing lost before the workers",
            port)
    t.check(port["opackets"] == frames_sent, f"the port's opackets equal the {frames_sent} frames "
            "in the reply pcap", port)
    t.check(stats["busy_seconds"] > 0 and stats["replies_per_busy_second"] > 0,
            "busy time measured while frames were handled",
            {k: stats[k] for k in ("busy_seconds", "replies_per_busy_second")})
    return t.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

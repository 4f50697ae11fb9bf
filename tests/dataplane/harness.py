# SPDX-License-Identifier: BSD-3-Clause
"""Runs the real sipredir program over a pcap (net_pcap in, net_pcap out) and reports in TAP,
which meson turns into one test case per check."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import pcap  # noqa: E402


def run_sipredir(program, config, frames, workdir, extra_eal=(), timeout=60):
    """Replays `frames` through sipredir; returns (reply frames, final statistics)."""
    rx = os.path.join(workdir, "in.pcap")
    tx = os.path.join(workdir, "out.pcap")
    stats = os.path.join(workdir, "stats.json")
    pcap.write_pcap(rx, frames)
    cmd = [program, "--no-huge", "-m", "512", "--no-pci", "-l", "0,1",
           "--file-prefix", "sipredir-test-%d" % os.getpid(), "--log-level", "*:warning",
           "--vdev", f"net_pcap0,rx_pcap={rx},tx_pcap={tx}", *extra_eal, "--",
           "--config", config, "--exit-when-idle", "500", "--duration", "40",
           "--stats-json", stats]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"sipredir exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    with open(stats) as f:
        return pcap.read_pcap(tx), json.load(f)


class tap:
    """Test Anything Protocol output: one line per check, the plan at the end."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        self.count += 1
        if not ok:
            self.failed += 1
        print(f"{'ok' if ok else 'not ok'} {self.count} - {name}")
        if not ok and detail:
            for line in str(detail).splitlines():
                print(f"# {line}")
        sys.stdout.flush()
        return ok

    def done(self):
        print(f"1..{self.count}")
        return 1 if self.failed else 0


def udp_payload(frame):
    """(src port, dst port, payload) of an Ethernet/IP/UDP frame, or None."""
    off = 12
    ethertype = int.from_bytes(frame[off:off + 2], "big")
    while ethertype in (0x8100, 0x88A8):
        off += 4
        ethertype = int.from_bytes(frame[off:off + 2], "big")
    off += 2
    if ethertype == 0x0800:
        ihl = (frame[off] & 0xF) * 4
        if frame[off + 9] != 17:
            return None
        off += ihl
    elif ethertype == 0x86DD:
        if frame[off + 6] != 17:
            return None
        off += 40
    else:
        return None
    sport = int.from_bytes(frame[off:off + 2], "big")
    dport = int.from_bytes(frame[off + 2:off + 4], "big")
    length = int.from_bytes(frame[off + 4:off + 6], "big")
    return sport, dport, frame[off + 8:off + length]


def status_code(payload):
    first = payload.split(b"\r\n", 1)[0].split(b" ")
    return int(first[1]) if len(first) > 1 and first[0] == b"SIP/2.0" else None


def join_fragments(frames):
    """The frames with IPv4 fragments put back together (in the position of their first), so
    that a reply sent in fragments counts and reads as one."""
    out, groups, order = [], {}, []
    for f in frames:
        if int.from_bytes(f[12:14], "big") != 0x0800:
            out.append(f)
            continue
        flags = int.from_bytes(f[20:22], "big")
        if flags & 0x3FFF == 0:
            out.append(f)
            continue
        key = (f[26:34], f[18:20])
        if key not in groups:
            groups[key] = []
            order.append(key)
            out.append(key)
        groups[key].append(((flags & 0x1FFF) * 8, f))
    result = []
    for item in out:
        if not isinstance(item, tuple):
            result.append(item)
            continue
        parts = sorted(groups[item], key=lambda p: p[0])
        first = parts[0][1]
        ihl = (first[14] & 0xF) * 4
        data = b"".join(p[1][14 + ihl:14 + int.from_bytes(p[1][16:18], "big")] for p in parts)
        header = bytearray(first[:14 + ihl])
        header[16:18] = (ihl + len(data)).to_bytes(2, "big")
        header[20:22] = b"\0\0"
        result.append(bytes(header) + data)
    return result

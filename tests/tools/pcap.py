# SPDX-License-Identifier: BSD-3-Clause
"""Reads and writes classic pcap files and builds Ethernet/IPv4/IPv6/UDP frames, with nothing
but the standard library (the tests must not need scapy)."""
import struct

LINKTYPE_ETHERNET = 1

CALLER_MAC = bytes.fromhex("020000000002")
APPLIANCE_MAC = bytes.fromhex("027063617000")  # net_pcap's port 0


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    frames = []
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack_from(endian + "IIII", data, offset)
        offset += 16
        frames.append(data[offset : offset + caplen])
        offset += caplen
    return frames


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_bytes(text):
    import ipaddress

    return ipaddress.ip_address(text).packed


def udp_frame(payload, src="198.18.0.2", dst="198.18.0.1", sport=5061, dport=5060,
              src_mac=CALLER_MAC, dst_mac=APPLIANCE_MAC, vlans=(), ip_id=0x1234):
    """An Ethernet frame carrying one UDP datagram, checksums filled."""
    s, d = ip_bytes(src), ip_bytes(dst)
    udp_len = 8 + len(payload)
    v6 = len(s) == 16
    pseudo = s + d + (struct.pack("!IxxxB", udp_len, 17) if v6 else struct.pack("!xBH", 17, udp_len))
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return ethernet(dst_mac, src_mac, vlans, ip_packet(s, d, 17, udp, ip_id))


def ip_packet(s, d, proto, body, ip_id=0x1234, frag=0):
    if len(s) == 16:
        return struct.pack("!IHBB", 0x60000000, len(body), proto, 64) + s + d + body
    hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(body), ip_id, frag, 64, proto, 0) + s + d
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + body


def ethernet(dst_mac, src_mac, vlans, ip):
    v6 = (ip[0] >> 4) == 6
    out = dst_mac + src_mac
    for i, vid in enumerate(vlans):
        tpid = 0x88A8 if len(vlans) == 2 and i == 0 else 0x8100
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", 0x86DD if v6 else 0x0800) + ip


def ipv4_fragments(payload, size, src="198.18.0.2", dst="198.18.0.1", sport=5061, dport=5060,
                   ip_id=0x4242):
    """The UDP datagram split into IPv4 fragments of at most `size` payload octets (multiple
    of 8)."""
    s, d = ip_bytes(src), ip_bytes(dst)
    udp_len = 8 + len(payload)
    pseudo = s + d + struct.pack("!xBH", 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    frames = []
    for off in range(0, len(udp), size):
        more = 0x2000 if off + size < len(udp) else 0
        frames.append(ethernet(APPLIANCE_MAC, CALLER_MAC, (),
                               ip_packet(s, d, 17, udp[off : off + size], ip_id, more | (off // 8))))
    return frames


def arp_request(sender_ip="198.18.0.2", target_ip="198.18.0.1"):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + CALLER_MAC + ip_bytes(sender_ip) + \
        b"\0" * 6 + ip_bytes(target_ip)
    frame = b"\xff" * 6 + CALLER_MAC + struct.pack("!H", 0x0806) + body
    return frame + b"\0" * (60 - len(frame))

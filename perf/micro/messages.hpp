// SPDX-License-Identifier: BSD-3-Clause
// The messages the microbenchmarks use: a realistic ~800-octet INVITE with SDP, as a carrier's
// SBC sends it, and a short OPTIONS keepalive.
#pragma once

#include <string_view>

namespace sipredir::perf {

inline constexpr std::string_view invite_800 =
        "INVITE sip:+4930123456789@sbc.carrier.example.net;user=phone SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK-524287-1---4b2f7c1d9e3a5f60;rport\r\n"
        "Max-Forwards: 69\r\n"
        "Contact: <sip:+4940987654321@198.18.0.2:5060;transport=udp>\r\n"
        "To: <sip:+4930123456789@sbc.carrier.example.net;user=phone>\r\n"
        "From: \"Caller\" <sip:+4940987654321@pbx.customer.example.com;user=phone>"
        ";tag=8f2a3c41\r\n"
        "Call-ID: 6c7f2a1e9b3d4c5f8a0b1c2d3e4f5a6b@198.18.0.2\r\n"
        "CSeq: 1 INVITE\r\n"
        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, UPDATE, PRACK\r\n"
        "Content-Type: application/sdp\r\n"
        "Supported: replaces, timer, 100rel\r\n"
        "User-Agent: ExamplePBX/16.2.1\r\n"
        "P-Asserted-Identity: <sip:+4940987654321@pbx.customer.example.com;user=phone>\r\n"
        "Session-Expires: 1800;refresher=uac\r\n"
        "Min-SE: 90\r\n"
        "Content-Length: 243\r\n"
        "\r\n"
        "v=0\r\n"
        "o=- 1234567890 1234567890 IN IP4 198.18.0.2\r\n"
        "s=ExamplePBX\r\n"
        "c=IN IP4 198.18.0.2\r\n"
        "t=0 0\r\n"
        "m=audio 10000 RTP/AVP 8 0 101\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-16\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n";

inline constexpr std::string_view options_short =
        "OPTIONS sip:198.18.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK-ka-1\r\n"
        "From: <sip:ping@198.18.0.2>;tag=ka1\r\n"
        "To: <sip:198.18.0.1>\r\n"
        "Call-ID: ka-1@198.18.0.2\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n"
        "\r\n";

} // namespace sipredir::perf

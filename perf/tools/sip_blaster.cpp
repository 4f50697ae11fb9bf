// SPDX-License-Identifier: BSD-3-Clause
// A SIP load generator for comparing redirect servers on one path: sends distinct ~800-octet
// INVITEs over a kernel UDP socket, matches each final reply to its request by Call-ID, ACKs it
// (RFC 3261 §17.1.1.3: a non-2xx final is ACKed by the client), and reports replies per second and
// latency percentiles. Two ways to load:
//   --window W  closed loop: W requests in flight; a reply frees a slot, a request unanswered after
//               --timeout-ms is counted lost and its slot reused. Measures capacity.
//   --rate R    open loop: R requests per second, whatever comes back. Measures latency at a load.
// Bounded: it stops after --seconds, then waits at most --timeout-ms for the last replies.
// Output: one line of JSON. A perf tool (syscalls are its job), not part of the appliance.
#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()
    )
            .count();
}

struct options {
    std::string target = "198.18.0.1";
    int target_port = 5060;
    std::string source = "198.18.0.2";
    int source_port = 5070;
    double seconds = 5;
    int window = 0;
    int rate = 0;
    int timeout_ms = 500;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(
            stderr,
            "sip_blaster: %s\nusage: sip_blaster [--target IP[:PORT]] [--source IP[:PORT]] "
            "[--seconds S] (--window W | --rate R) [--timeout-ms MS]\n",
            why
    );
    std::exit(2);
}

void split_endpoint(const std::string& text, std::string& ip, int& port) {
    const auto colon = text.find(':');
    ip = text.substr(0, colon);
    if (colon != std::string::npos) {
        port = std::atoi(text.c_str() + colon + 1);
    }
}

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (i + 1 >= argc) {
            usage("every option takes a value");
        }
        const char* v = argv[++i];
        if (a == "--target") {
            split_endpoint(v, o.target, o.target_port);
        } else if (a == "--source") {
            split_endpoint(v, o.source, o.source_port);
        } else if (a == "--seconds") {
            o.seconds = std::atof(v);
        } else if (a == "--window") {
            o.window = std::atoi(v);
        } else if (a == "--rate") {
            o.rate = std::atoi(v);
        } else if (a == "--timeout-ms") {
            o.timeout_ms = std::atoi(v);
        } else {
            usage("unknown option");
        }
    }
    if ((o.window > 0) == (o.rate > 0)) {
        usage("give exactly one of --window and --rate");
    }
    if (o.seconds <= 0 || o.seconds > 600 || o.timeout_ms <= 0) {
        usage("--seconds must be in (0, 600] and --timeout-ms positive");
    }
    return o;
}

// Requests are numbered; the number is in the Call-ID, so a reply names its request. One
// snprintf into a fixed buffer: the blaster's own cost per request stays small next to the
// servers' it measures. The body is the same for all, so Content-Length is too.
constexpr std::string_view sdp_body =
        "v=0\r\no=- 1 1 IN IP4 198.18.0.2\r\ns=-\r\nc=IN IP4 198.18.0.2\r\nt=0 0\r\n"
        "m=audio 10000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
        "a=x-pad:pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
        "pppppppppppppppppppppppppppppppppppppppppp\r\n";

constexpr std::size_t max_message = 2048;

// What follows CSeq in every INVITE: the same for all of them.
std::string invite_rest(const options& o) {
    const std::string contact = o.source + ":" + std::to_string(o.source_port);
    return "Contact: <sip:blaster@" + contact
           + ">\r\nUser-Agent: sipredir-blaster\r\nAllow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n"
             "Content-Type: application/sdp\r\nContent-Length: "
           + std::to_string(sdp_body.size()) + "\r\n\r\n" + std::string(sdp_body);
}

// Request `n` (INVITE, or the ACK of its non-2xx final): Request-URI, Via branch, From tag,
// Call-ID and CSeq number are n's, so an ACK matches its INVITE (RFC 3261 §17.1.1.3); `to` is
// the To value (the reply's, with its tag, for an ACK); `rest` the headers after CSeq and body.
std::size_t write_request(
        const options& o,
        std::uint64_t n,
        const char* method,
        std::string_view to,
        std::string_view rest,
        char* out
) {
    const auto u = static_cast<unsigned long long>(n);
    const int size = std::snprintf(
            out,
            max_message,
            "%s sip:+1555%07llu@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%llu\r\n"
            "Max-Forwards: 70\r\n"
            "From: \"Blaster\" <sip:blaster@%s:%d>;tag=f%llu\r\n"
            "To: %.*s\r\n"
            "Call-ID: blast-%llu@%s\r\n"
            "CSeq: 1 %s\r\n%.*s",
            method,
            u % 10000000,
            o.target.c_str(),
            o.target_port,
            o.source.c_str(),
            o.source_port,
            u,
            o.source.c_str(),
            o.source_port,
            u,
            static_cast<int>(std::min<std::size_t>(to.size(), 512)),
            to.data(),
            u,
            o.source.c_str(),
            method,
            static_cast<int>(rest.size()),
            rest.data()
    );
    return static_cast<std::size_t>(std::min(size, static_cast<int>(max_message) - 1));
}

std::size_t write_invite(const options& o, std::uint64_t n, std::string_view rest, char* out) {
    char to[128];
    std::snprintf(
            to,
            sizeof to,
            "<sip:+1555%07llu@%s>",
            static_cast<unsigned long long>(n % 10000000),
            o.target.c_str()
    );
    return write_request(o, n, "INVITE", to, rest, out);
}

// The value of header `name` (long form, or compact form `compact`) in a reply, or "".
std::string_view header(std::string_view msg, std::string_view name, char compact) {
    std::size_t at = 0;
    while (at < msg.size()) {
        const std::size_t eol = msg.find("\r\n", at);
        const std::string_view line =
                msg.substr(at, eol == std::string_view::npos ? msg.size() - at : eol - at);
        if (line.empty()) {
            break;
        }
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view n = line.substr(0, colon);
            while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) {
                n.remove_suffix(1);
            }
            const bool match =
                    (n.size() == 1 && (n[0] | 0x20) == compact)
                    || (n.size() == name.size()
                        && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                               return (a | 0x20) == (b | 0x20);
                           }));
            if (match) {
                std::string_view v = line.substr(colon + 1);
                while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
                    v.remove_prefix(1);
                }
                return v;
            }
        }
        if (eol == std::string_view::npos) {
            break;
        }
        at = eol + 2;
    }
    return {};
}

// Latency at 1 µs resolution up to 100 ms (the last bucket holds everything slower): bounded
// memory however long the run.
class latency_histogram {
public:
    void add(std::int64_t ns) {
        const auto us = static_cast<std::size_t>(std::max<std::int64_t>(ns, 0) / 1000);
        ++_buckets[std::min(us, _buckets.size() - 1)];
        ++_count;
    }
    // Microseconds below which `p` percent of the samples fall (upper edge of the bucket).
    double percentile(double p) const {
        if (_count == 0) {
            return 0;
        }
        const auto rank =
                static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(_count - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < _buckets.size(); ++i) {
            seen += _buckets[i];
            if (seen >= rank) {
                return static_cast<double>(i + 1);
            }
        }
        return static_cast<double>(_buckets.size());
    }

private:
    std::vector<std::uint64_t> _buckets = std::vector<std::uint64_t>(100'000);
    std::uint64_t _count = 0;
};

struct slot {
    std::uint64_t request = 0; // the request number in flight here
    std::int64_t sent_ns = 0;
    bool busy = false;
};

struct tally {
    std::uint64_t sent = 0;
    std::uint64_t answered = 0; // final replies matched to a request in flight
    std::uint64_t provisional = 0;
    std::uint64_t late = 0; // replies to requests already given up
    std::uint64_t lost = 0; // requests unanswered within the timeout
    std::uint64_t send_errors = 0;
    std::map<int, std::uint64_t> by_code;
    latency_histogram latency;
};

int open_socket(const options& o) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        std::perror("socket");
        std::exit(1);
    }
    // Large buffers, so bursts of replies are not lost in the blaster's own socket. The FORCE
    // variants pass net.core.rmem_max (root); the plain ones are the fallback.
    const int buffer = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(o.source_port));
    if (inet_pton(AF_INET, o.source.c_str(), &a.sin_addr) != 1
        || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("bind");
        std::exit(1);
    }
    sockaddr_in t{};
    t.sin_family = AF_INET;
    t.sin_port = htons(static_cast<std::uint16_t>(o.target_port));
    if (inet_pton(AF_INET, o.target.c_str(), &t.sin_addr) != 1
        || connect(fd, reinterpret_cast<sockaddr*>(&t), sizeof t) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    return fd;
}

class blaster {
public:
    explicit blaster(const options& o)
        : _o(o), _fd(open_socket(o)),
          _slots(static_cast<std::size_t>(o.window > 0 ? o.window : 65536)) {}

    void run() {
        const std::int64_t start = now_ns();
        const std::int64_t stop = start + static_cast<std::int64_t>(_o.seconds * 1e9);
        const std::int64_t timeout = std::int64_t{_o.timeout_ms} * 1'000'000;
        std::int64_t next_send = start;
        const std::int64_t gap = _o.rate > 0 ? 1'000'000'000LL / _o.rate : 0;
        for (std::int64_t now = start; now < stop; now = now_ns()) {
            if (_o.window > 0) {
                fill_window(now);
            } else {
                while (next_send <= now) {
                    send_request(now);
                    next_send += gap;
                }
                flush();
            }
            receive();
            expire(now, timeout);
        }
        _elapsed_s = static_cast<double>(now_ns() - start) / 1e9;
        // The last replies: bounded by the timeout.
        for (std::int64_t now = now_ns(); in_flight() > 0 && now < stop + timeout; now = now_ns()) {
            receive();
        }
        give_up_in_flight();
    }

    void report() {
        auto pct = [this](double p) { return _t.latency.percentile(p); };
        std::printf(
                "{\"mode\": \"%s\", \"load\": %d, \"seconds\": %.3f, \"sent\": %llu, "
                "\"answered\": %llu, \"lost\": %llu, \"late\": %llu, \"provisional\": %llu, "
                "\"send_errors\": %llu, \"replies_per_s\": %.0f, \"p50_us\": %.1f, "
                "\"p99_us\": %.1f, \"p999_us\": %.1f, \"codes\": {",
                _o.window > 0 ? "window" : "rate",
                _o.window > 0 ? _o.window : _o.rate,
                _elapsed_s,
                ull(_t.sent),
                ull(_t.answered),
                ull(_t.lost),
                ull(_t.late),
                ull(_t.provisional),
                ull(_t.send_errors),
                static_cast<double>(_t.answered) / _elapsed_s,
                pct(50),
                pct(99),
                pct(99.9)
        );
        const char* sep = "";
        for (const auto& [code, count] : _t.by_code) {
            std::printf("%s\"%d\": %llu", sep, code, ull(count));
            sep = ", ";
        }
        std::printf("}}\n");
    }

private:
    static unsigned long long ull(std::uint64_t v) { return v; }

    std::size_t in_flight() const { return _busy; }

    slot& slot_of(std::uint64_t n) { return _slots[n % _slots.size()]; }

    void fill_window(std::int64_t now) {
        while (_busy < _slots.size() && !slot_of(_next).busy) {
            send_request(now);
        }
        flush();
    }

    void send_request(std::int64_t now) {
        slot& s = slot_of(_next);
        if (s.busy) { // open loop faster than replies for 65,536 requests: count it lost
            s.busy = false;
            --_busy;
            ++_t.lost;
        }
        queue(write_invite(_o, _next, _invite_rest, next_buffer()));
        s = {.request = _next, .sent_ns = now, .busy = true};
        ++_busy;
        ++_next;
        ++_t.sent;
    }

    // Messages leave in batches through sendmmsg: a syscall per message made the blaster, not
    // the server, the bottleneck (syscalls are dear in a VM).
    char* next_buffer() {
        if (_queued == outbox_size) {
            flush();
        }
        return _outbox[_queued].data();
    }

    void queue(std::size_t size) {
        _out_iov[_queued] = {_outbox[_queued].data(), size};
        ++_queued;
    }

    void flush() {
        std::array<mmsghdr, outbox_size> msgs{};
        for (std::size_t i = 0; i < _queued; ++i) {
            msgs[i].msg_hdr.msg_iov = &_out_iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        std::size_t done = 0;
        while (done < _queued) {
            const int n =
                    sendmmsg(_fd, msgs.data() + done, static_cast<unsigned>(_queued - done), 0);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) {
                    pollfd p{_fd, POLLOUT, 0};
                    poll(&p, 1, 1);
                    continue;
                }
                // A request not sent goes unanswered: the timeout counts it lost.
                _t.send_errors += _queued - done;
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        _queued = 0;
    }

    void receive() {
        constexpr int batch = 32;
        std::array<std::array<char, 4096>, batch> buffers;
        std::array<iovec, batch> iov;
        std::array<mmsghdr, batch> msgs{};
        for (int i = 0; i < batch; ++i) {
            iov[i] = {buffers[i].data(), buffers[i].size()};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        if (_o.rate > 0 || _busy == _slots.size()) {
            pollfd p{_fd, POLLIN, 0};
            poll(&p, 1, 1);
        }
        const int got = recvmmsg(_fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
        for (int i = 0; i < got; ++i) {
            on_reply({buffers[i].data(), msgs[i].msg_len}, now_ns());
        }
        flush();
    }

    void on_reply(std::string_view r, std::int64_t now) {
        if (r.size() < 12 || r.substr(0, 8) != "SIP/2.0 ") {
            return;
        }
        const int code = std::atoi(std::string(r.substr(8, 3)).c_str());
        const std::string_view call_id = header(r, "call-id", 'i');
        if (call_id.substr(0, 6) != "blast-") {
            return;
        }
        const std::uint64_t n = std::strtoull(std::string(call_id.substr(6)).c_str(), nullptr, 10);
        if (code < 200) {
            ++_t.provisional;
            return;
        }
        slot& s = slot_of(n);
        if (!s.busy || s.request != n) {
            ++_t.late;
            return;
        }
        s.busy = false;
        --_busy;
        ++_t.answered;
        ++_t.by_code[code];
        _t.latency.add(now - s.sent_ns);
        if (code >= 300) {
            queue(write_request(
                    _o, n, "ACK", header(r, "to", 't'), "Content-Length: 0\r\n\r\n", next_buffer()
            ));
        }
    }

    void expire(std::int64_t now, std::int64_t timeout) {
        // Scan a slice per call: the window is small, the open-loop ring is scanned over time.
        const std::size_t slice = std::min<std::size_t>(_slots.size(), 256);
        for (std::size_t k = 0; k < slice && _busy > 0; ++k) {
            slot& s = _slots[_scan];
            _scan = (_scan + 1) % _slots.size();
            if (s.busy && now - s.sent_ns >= timeout) {
                s.busy = false;
                --_busy;
                ++_t.lost;
            }
        }
    }

    // At the end: whatever is still in flight is lost.
    void give_up_in_flight() {
        for (slot& s : _slots) {
            if (s.busy) {
                s.busy = false;
                ++_t.lost;
            }
        }
        _busy = 0;
    }

    static constexpr std::size_t outbox_size = 64;

    options _o;
    std::string _invite_rest = invite_rest(_o);
    int _fd;
    std::array<std::array<char, max_message>, outbox_size> _outbox;
    std::array<iovec, outbox_size> _out_iov;
    std::size_t _queued = 0;
    std::vector<slot> _slots;
    std::size_t _busy = 0;
    std::size_t _scan = 0;
    std::uint64_t _next = 1;
    double _elapsed_s = 0;
    tally _t;
};

} // namespace

int main(int argc, char** argv) {
    const options o = parse_options(argc, argv);
    blaster b(o);
    b.run();
    b.report();
    return 0;
}

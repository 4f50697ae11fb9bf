// SPDX-License-Identifier: BSD-3-Clause
// sipredirctl: the operator's command line to a running sipredir, over its UNIX socket.
//
//   sipredirctl [--socket PATH] [--json] stats | backends | pools | fleet |
//               query [POOL] [--count=false] | drain NAME | undrain NAME |
//               backend set|add|remove NAME ... | reload | metrics | version
//   sipredirctl [--socket PATH] top [--interval SECONDS] [--count N]
//
// Prints the appliance's answer as tables (tables.hpp), or as the JSON itself with --json.
// Every answer but `metrics` is a JSON object: exits 0 when it says "ok": true, 1 when it
// refused ("ok": false, its error on stderr) or is not such an object. `metrics` answers
// Prometheus text: 0 when there is some. 2 when the appliance could not be reached or closed
// without answering. `top` is a live view (top.hpp). `sipredirctl --version` is this program's
// own version, asked of nobody.
#include "client.hpp"
#include "tables.hpp"
#include "top.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <version.hpp>

namespace {

constexpr const char* default_socket = "/run/sipredir/sipredir.sock";

// The usage to `to` (stdout for --help, stderr for a wrong command line).
void usage(std::FILE* to) {
    std::fprintf(
            to,
            "usage: sipredirctl [--socket PATH] [--json] COMMAND [ARGUMENT]\n"
            "       sipredirctl [--socket PATH] top [--interval SECONDS] [--count N]\n"
            "       sipredirctl --help | --version\n"
            "  top              a live view: backends, workers, latency, fleet, events\n"
            "                   (q to quit; --interval 1 s by default; --count N screens)\n"
            "  stats            the appliance's counters\n"
            "  backends         every backend: state, load, age, RTT, redirects\n"
            "  pools            every pool: policy, available and eligible backends\n"
            "  fleet            the peers this appliance shares redirect counts with\n"
            "  query [POOL] [--count=false]\n"
            "                   which backend the pool would name now, and its table; the\n"
            "                   answer counts as a redirect to it unless --count=false\n"
            "  drain NAME       no new redirects to NAME (its calls go on)\n"
            "  undrain NAME     back in rotation\n"
            "  backend set NAME KEY=VALUE...\n"
            "  backend add NAME address=ADDR pools=POOL[,POOL] [KEY=VALUE...]\n"
            "  backend remove NAME\n"
            "                   change backends at run time (weight, capacity, threshold,\n"
            "                   state=up|down|draining, priority, ...): checked like the file,\n"
            "                   kept in [management] state_file over restarts and reloads\n"
            "  reload           read the configuration file again\n"
            "  metrics          the Prometheus text\n"
            "  version          the appliance's version and configuration revision\n"
            "Answers are shown as tables; --json prints the appliance's JSON as it is.\n"
            "The socket defaults to %s ([management] socket).\n"
            "Exit status: 0 when the appliance answered \"ok\": true (or, for metrics, any text),\n"
            "1 when it refused, 2 when it could not be reached.\n",
            default_socket
    );
}

struct command_line {
    std::string path = default_socket;
    bool json = false;
    std::string line; // the request: the arguments joined by spaces, newline-terminated
};

// --socket PATH and --json, in any order before the command. 0 when the line is good, -1 for
// --help and --version (answered here), else the exit status.
int options(int argc, char** argv, int& i, command_line& c) {
    for (; i < argc; ++i) {
        if (std::strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            c.path = argv[++i];
        } else if (std::strcmp(argv[i], "--json") == 0) {
            c.json = true;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
        usage(stdout);
        return -1;
    }
    if (std::strcmp(argv[i], "--version") == 0) {
        std::printf(
                "sipredirctl %.*s\n",
                static_cast<int>(sipredir::version.size()),
                sipredir::version.data()
        );
        return -1;
    }
    return 0;
}

// The command line as one request line (the arguments joined by spaces), and the options.
// --json and --socket PATH may also follow the command. 0 when it is good, -1 for --help and
// --version, else the exit status.
int request_line(int argc, char** argv, command_line& c) {
    int i = 1;
    if (const int rc = options(argc, argv, i, c); rc != 0) {
        return rc;
    }
    for (; i < argc; ++i) {
        if (std::strcmp(argv[i], "--json") == 0) {
            c.json = true;
            continue;
        }
        if (std::strcmp(argv[i], "--socket") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                return 2;
            }
            c.path = argv[++i];
            continue;
        }
        if (std::strpbrk(argv[i], "\r\n") != nullptr) {
            std::fprintf(stderr, "sipredirctl: arguments are one line each\n");
            return 2;
        }
        c.line += c.line.empty() ? "" : " ";
        c.line += argv[i];
    }
    c.line += '\n';
    return 0;
}

// `top [--interval SECONDS] [--count N]` from the words after `top`.
int top(const command_line& c, int argc, char** argv, int first) {
    double interval = 1;
    long count = 0;
    for (int i = first; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word == "--json") {
            continue; // an option of sipredirctl's, read already (top draws, it has no JSON)
        }
        if (word == "--socket") {
            ++i;
            continue;
        }
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        const char* end = value != nullptr ? value + std::strlen(value) : nullptr;
        bool good = value != nullptr;
        if (good && word == "--interval") {
            good = std::from_chars(value, end, interval).ptr == end && interval >= 0.1
                   && interval <= 3600;
        } else if (good && word == "--count") {
            good = std::from_chars(value, end, count).ptr == end && count >= 0;
        } else {
            good = false;
        }
        if (!good) {
            std::fprintf(
                    stderr,
                    "sipredirctl: top takes --interval SECONDS (0.1 to 3600) and --count N\n"
            );
            return 2;
        }
        ++i;
    }
    return sipredir::ctl::run_top(c.path, interval, count);
}

// The exit status for the appliance's answer to `verb` (docs/operations.md): its JSON read, not
// searched as text, so that "ok": true inside a string or a name is not taken for success.
int status_of(std::string_view verb, const std::string& reply) {
    const nlohmann::json answer = nlohmann::json::parse(reply, nullptr, false);
    const bool object = !answer.is_discarded() && answer.is_object();
    if (verb == "metrics" && !object) {
        // Prometheus text; a refusal would be a JSON object, judged below.
        return 0;
    }
    if (!object) {
        std::fprintf(stderr, "sipredirctl: the answer is not a JSON object\n");
        return 1;
    }
    const auto ok = answer.find("ok");
    return ok != answer.end() && ok->is_boolean() && ok->get<bool>() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    command_line c;
    if (const int rc = request_line(argc, argv, c); rc != 0) {
        return rc < 0 ? 0 : rc; // -1: --help, --version
    }
    const std::string_view verb = std::string_view(c.line).substr(0, c.line.find_first_of(" \n"));
    if (verb == "top") {
        int first = 1;
        while (std::strcmp(argv[first], "top") != 0) {
            ++first;
        }
        return top(c, argc, argv, first + 1);
    }
    std::string reply;
    if (const int rc = sipredir::ctl::exchange(c.path, c.line, reply, 10000); rc != 0) {
        return rc;
    }
    if (reply.empty()) {
        std::fprintf(stderr, "sipredirctl: the appliance closed without answering\n");
        return 2;
    }
    const int status = status_of(verb, reply);
    const nlohmann::json answer = nlohmann::json::parse(reply, nullptr, false);
    // Scripts (--json) get the answer as it came, whatever it says; so does anything that is
    // not a JSON object (metrics' text).
    if (c.json || !answer.is_object()) {
        std::fputs(reply.c_str(), stdout);
        return status;
    }
    if (status != 0) {
        const auto error = answer.find("error");
        std::fprintf(
                stderr,
                "sipredirctl: %s\n",
                error != answer.end() && error->is_string() ? error->get<std::string>().c_str()
                                                            : reply.c_str()
        );
        return status;
    }
    std::fputs(sipredir::ctl::human_view(verb, answer).c_str(), stdout);
    return status;
}

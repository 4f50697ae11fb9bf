// SPDX-License-Identifier: BSD-3-Clause
// The journal entry of an event (its fields, as text) and the JOURNAL_STREAM test that decides
// whether stderr is the journal.
#include <gtest/gtest.h>

#include <control/log.hpp>
#include <string>
#include <vector>

namespace sipredir::control {
namespace {

TEST(log, journal_entry_of_an_event) {
    const log_field fields[] = {{"backend", "b1"}, {"address", "198.18.1.1:5060"}};
    const std::vector<std::string> expected = {
            "MESSAGE=level=warning event=backend_down backend=b1 address=198.18.1.1:5060",
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=sipredir",
            "EVENT=backend_down",
            "BACKEND=b1",
            "ADDRESS=198.18.1.1:5060",
    };
    EXPECT_EQ(journal_fields("sipredir", log_level::warning, "backend_down", fields), expected);
}

TEST(log, journal_priority_by_level) {
    const struct {
        log_level level;
        std::string priority;
    } cases[] = {
            {log_level::error, "PRIORITY=3"},
            {log_level::warning, "PRIORITY=4"},
            {log_level::info, "PRIORITY=6"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(journal_fields("sipredir", c.level, "reloaded", {})[1], c.priority);
    }
}

TEST(log, journal_field_names) {
    const struct {
        const char* name;
        std::string key;
        std::string field;
    } cases[] = {
            {"lower case in capitals", "config_revision", "CONFIG_REVISION=v"},
            {"other characters as _", "rtt-ms.p50", "RTT_MS_P50=v"},
            {"journald's own", "message", "SIPREDIR_MESSAGE=v"},
            {"the priority kept", "priority", "SIPREDIR_PRIORITY=v"},
            {"the event kept", "event", "SIPREDIR_EVENT=v"},
            {"a trusted-field look-alike", "_pid", "SIPREDIR__PID=v"},
            {"a leading digit", "2nd", "SIPREDIR_2ND=v"},
            {"empty", "", "SIPREDIR_=v"},
            {"cut at 64", std::string(80, 'a'), std::string(64, 'A') + "=v"},
    };
    for (const auto& c : cases) {
        const log_field f[] = {{c.key, "v"}};
        EXPECT_EQ(journal_fields("sipredir", log_level::info, "e", f).back(), c.field) << c.name;
    }
}

TEST(log, journal_values_kept_whole_and_the_message_quoted) {
    const log_field f[] = {{"error", "a.toml:3: bad \"x\"\nnext"}};
    const std::vector<std::string> entry =
            journal_fields("sipredir", log_level::error, "reload_refused", f);
    EXPECT_EQ(entry.back(), "ERROR=a.toml:3: bad \"x\"\nnext");
    EXPECT_EQ(entry.front(), "MESSAGE=" + log_line(log_level::error, "reload_refused", {f[0]}));
    EXPECT_EQ(entry.front().find('\n'), std::string::npos);
}

TEST(log, journal_stream_names_stderr) {
    const struct {
        const char* name;
        const char* value;
        bool matches;
    } cases[] = {
            {"the same device and inode", "8:1234", true},
            {"unset", nullptr, false},
            {"empty", "", false},
            {"another inode", "8:1235", false},
            {"another device", "9:1234", false},
            {"no inode", "8:", false},
            {"no device", ":1234", false},
            {"no colon", "81234", false},
            {"trailing text", "8:1234x", false},
            {"leading text", "x8:1234", false},
            {"a third part", "8:1234:5", false},
            {"negative", "-8:1234", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(names_journal_stream(c.value, 8, 1234), c.matches) << c.name;
    }
}

} // namespace
} // namespace sipredir::control

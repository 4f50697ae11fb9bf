// SPDX-License-Identifier: BSD-3-Clause
// sipredir --check-config's judgement: a good file passes; a bad one, whatever stage refuses it
// (the TOML, a section, the rules' compilation, the mbuf pool), names its file and line.
#include "minimal_config.hpp"

#include <gtest/gtest.h>

#include <control/check_config.hpp>
#include <filesystem>
#include <fstream>
#include <string>

using namespace sipredir::control;

namespace {

const std::string& minimal = sipredir::test::minimal_config;

struct check_case {
    const char* name;
    std::string text;
    std::string refusal; // what follows "FILE:"; empty when the file is good
};

class check_config_test : public testing::TestWithParam<check_case> {};

TEST_P(check_config_test, judges_the_file_as_a_reload_would) {
    const check_case& c = GetParam();
    const auto path = std::filesystem::temp_directory_path()
                      / (std::string("sipredir-check-config-") + c.name + ".toml");
    std::ofstream(path) << c.text;
    const std::string error = check_config(path.string());
    std::filesystem::remove(path);
    if (c.refusal.empty()) {
        EXPECT_EQ(error, "");
    } else {
        EXPECT_EQ(error.rfind(path.string() + ":" + c.refusal, 0), 0u) << error;
    }
}

INSTANTIATE_TEST_SUITE_P(
        check_config,
        check_config_test,
        testing::Values(
                check_case{"minimal", minimal, ""},
                check_case{
                        "rules_compiled",
                        minimal
                                + "\n[[rule]]\nfield = \"from-user\"\nregex = \"^scan\"\n"
                                  "action = \"drop\"\n",
                        ""},
                check_case{"toml_syntax", "[listen\n", "1: "},
                check_case{"unknown_key", minimal + "mtu = 1500\n", "11: unknown key 'mtu'"},
                check_case{
                        "regex_that_does_not_compile",
                        minimal
                                + "\n[[rule]]\nname = \"x\"\nfield = \"from-user\"\n"
                                  "regex = \"(oops\"\naction = \"drop\"\n",
                        "12: rule 'x': "},
                check_case{
                        "mbuf_pool_too_small_for_one_worker",
                        minimal + "\n[dataplane]\nmbufs = 1023\n",
                        "13: mbufs = 1023 is too small"}
        ),
        [](const testing::TestParamInfo<check_case>& info) { return info.param.name; }
);

TEST(check_config, a_missing_file_is_named_at_line_0) {
    EXPECT_EQ(
            check_config("/nonexistent/sipredir.toml"),
            "/nonexistent/sipredir.toml:0: cannot be read"
    );
}

} // namespace

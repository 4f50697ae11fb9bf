// SPDX-License-Identifier: BSD-3-Clause
// Backends changed through the API: the overlay's words and JSON, its application to the file's
// TOML, and the plane's `backend` command: a change checked by the configuration readers,
// published, persisted so that the next start runs it, and refused whole when it is wrong.
#include <gtest/gtest.h>

#include <control/config.hpp>
#include <control/plane.hpp>
#include <control/runtime_changes.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

using namespace sipredir;
using namespace sipredir::control;

namespace {

std::string config_text(const std::string& dir, bool with_state_file = true) {
    std::string text = "[listen]\naddresses = [\"198.18.0.1\"]\n"
                       "[[backend]]\nname = \"b1\"\naddress = \"198.18.1.1\"\ncapacity = 10\n"
                       "[[backend]]\nname = \"b2\"\naddress = \"198.18.1.2\"\ncapacity = 10\n"
                       "[[pool]]\nname = \"core\"\npolicy = \"least-load\"\n"
                       "backends = [\"b1\", \"b2\"]\n"
                       "[management]\nsocket = \""
                       + dir + "/ctl.sock\"\n";
    if (with_state_file) {
        text += "state_file = \"" + dir + "/backends.json\"\n";
    }
    return text;
}

const static_backend* named(const appliance_config& c, std::string_view name) {
    for (const static_backend& b : c.backends) {
        if (b.config.name == name) {
            return &b;
        }
    }
    return nullptr;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(runtime_changes, words_become_an_overlay_and_json_keeps_it) {
    runtime_changes c;
    EXPECT_EQ(edit_runtime_changes(c, "set b1 weight=3 threshold=0.8 state=down"), "");
    EXPECT_EQ(
            edit_runtime_changes(c, "add b9 address=198.18.1.9:5060 pools=core,edge weight=2"), ""
    );
    EXPECT_EQ(edit_runtime_changes(c, "set b9 capacity=50"), ""); // onto the added one
    EXPECT_EQ(edit_runtime_changes(c, "remove b2"), "");
    EXPECT_EQ(c.set.at("b1").at("weight"), 3);
    EXPECT_EQ(c.set.at("b1").at("threshold"), 0.8);
    EXPECT_EQ(c.set.at("b1").at("state"), "down");
    ASSERT_EQ(c.added.size(), 1u);
    EXPECT_EQ(c.added[0].at("capacity"), 50);
    EXPECT_EQ(c.added[0].at("pools"), nlohmann::json::array({"core", "edge"}));
    EXPECT_EQ(c.removed, std::vector<std::string>{"b2"});

    runtime_changes back;
    std::string error;
    ASSERT_TRUE(parse_runtime_changes(runtime_changes_json(c), back, error)) << error;
    EXPECT_EQ(runtime_changes_json(back), runtime_changes_json(c));

    EXPECT_EQ(edit_runtime_changes(c, "remove b9"), ""); // an added one simply goes
    EXPECT_TRUE(c.added.empty());
}

TEST(runtime_changes, bad_words_are_named) {
    runtime_changes c;
    const std::pair<const char*, const char*> cases[] = {
            {"set b1", "set needs KEY=VALUE"},
            {"set b1 weight", "expected KEY=VALUE, got 'weight'"},
            {"set b1 name=b3", "a backend's name cannot change"},
            {"add b9 address=198.18.1.9", "add needs address=ADDR and pools="},
            {"rename b1 b3", "unknown change 'rename'"},
            {"remove b1 now", "remove takes a name only"},
            {"set", "usage:"},
    };
    for (const auto& [words, expected] : cases) {
        EXPECT_NE(edit_runtime_changes(c, words).find(expected), std::string::npos) << words;
    }
    EXPECT_TRUE(c.empty());
    std::string error;
    EXPECT_FALSE(parse_runtime_changes("[1]", c, error));
}

class backend_command_test : public ::testing::Test {
protected:
    void SetUp() override {
        char dir_template[] = "/tmp/sipredir-runtime-XXXXXX";
        ASSERT_NE(::mkdtemp(dir_template), nullptr);
        dir = dir_template;
        path = dir + "/sipredir.toml";
        std::ofstream(path) << config_text(dir);
        start();
    }
    void TearDown() override {
        p.reset();
        std::filesystem::remove_all(dir);
    }
    // A start: the file and the persisted overlay, as sipredir reads them.
    void start() {
        p.reset();
        config_result r = load_config(path);
        ASSERT_TRUE(r.config) << r.error.message;
        plane_hooks hooks;
        hooks.publish = [](const appliance_config&,
                           std::span<const balance::backend_facts>,
                           const balance::overload_signal&) { return true; };
        p = std::make_unique<plane>(path, std::move(*r.config), std::move(hooks));
    }
    nlohmann::json command(const std::string& line) {
        return nlohmann::json::parse(p->command(line));
    }

    std::string dir;
    std::string path;
    std::unique_ptr<plane> p;
};

TEST_F(backend_command_test, a_change_is_in_force_persisted_and_kept_by_a_restart) {
    const std::uint64_t generation = p->counters().generation;
    const nlohmann::json a = command("backend set b1 weight=5 capacity=40");
    ASSERT_TRUE(a.at("ok").get<bool>()) << a.dump();
    EXPECT_EQ(named(p->config(), "b1")->config.weight, 5u);
    EXPECT_EQ(named(p->config(), "b1")->config.capacity, 40u);
    EXPECT_GT(p->counters().generation, generation); // published
    EXPECT_EQ(p->counters().backend_changes, 1u);

    ASSERT_TRUE(command("backend add b3 address=198.18.1.3:5070 pools=core capacity=7")
                        .at("ok")
                        .get<bool>());
    ASSERT_TRUE(command("backend remove b2").at("ok").get<bool>());
    ASSERT_NE(named(p->config(), "b3"), nullptr);
    EXPECT_EQ(named(p->config(), "b2"), nullptr);
    const std::vector<std::uint16_t> members = p->config().pools[0].backends;
    EXPECT_EQ(members.size(), 2u); // b1 and b3
    EXPECT_NE(read_all(dir + "/backends.json").find("\"b3\""), std::string::npos);

    start(); // a restart reads the file and the overlay
    EXPECT_EQ(named(p->config(), "b1")->config.weight, 5u);
    EXPECT_EQ(named(p->config(), "b3")->config.capacity, 7u);
    EXPECT_EQ(named(p->config(), "b2"), nullptr);
    EXPECT_TRUE(p->reload().empty()); // and so does a reload
    EXPECT_EQ(named(p->config(), "b1")->config.weight, 5u);
}

TEST_F(backend_command_test, a_wrong_change_is_refused_whole_and_nothing_is_kept) {
    ASSERT_TRUE(command("backend set b1 weight=5").at("ok").get<bool>());
    const std::string persisted = read_all(dir + "/backends.json");
    const std::pair<const char*, const char*> cases[] = {
            {"backend set b1 weight=0", "weight"}, // the reader's range
            {"backend set b9 weight=2", "no backend named 'b9'"},
            {"backend remove b9", "no backend named 'b9'"},
            {"backend add b1 address=198.18.1.8 pools=core", "b1"}, // a name taken
            {"backend add b8 address=198.18.1.8 pools=edge", "no pool named 'edge'"},
            {"backend add b8 address=nowhere pools=core", "address"},
            {"backend set b1 colour=blue", "colour"},
    };
    for (const auto& [line, expected] : cases) {
        const nlohmann::json a = command(line);
        EXPECT_FALSE(a.at("ok").get<bool>()) << line;
        EXPECT_NE(a.value("error", "").find(expected), std::string::npos)
                << line << ": " << a.dump();
        EXPECT_EQ(named(p->config(), "b1")->config.weight, 5u) << line;
        EXPECT_EQ(read_all(dir + "/backends.json"), persisted) << line;
    }
    EXPECT_EQ(p->counters().backend_changes, 1u);
}

TEST_F(backend_command_test, without_a_state_file_changes_are_refused) {
    std::ofstream(path) << config_text(dir, false);
    start();
    const nlohmann::json a = command("backend set b1 weight=2");
    EXPECT_FALSE(a.at("ok").get<bool>());
    EXPECT_NE(a.value("error", "").find("state_file"), std::string::npos) << a.dump();
}

// The file catches up with a change (the backend the overlay removed or changed is deleted from
// it): the overlay's entry is moot, not an error, so the reload and the next start go on.
TEST_F(backend_command_test, an_overlay_the_file_caught_up_with_is_moot) {
    ASSERT_TRUE(command("backend set b2 weight=3").at("ok").get<bool>());
    std::string text = config_text(dir);
    const std::string b2 = "[[backend]]\nname = \"b2\"\naddress = \"198.18.1.2\"\ncapacity = 10\n";
    text.erase(text.find(b2), b2.size());
    text.replace(text.find("\"b1\", \"b2\""), 10, "\"b1\"");
    std::ofstream(path) << text;
    EXPECT_EQ(p->reload(), "");
    EXPECT_EQ(named(p->config(), "b2"), nullptr);
    start();
    EXPECT_EQ(p->config().backends.size(), 1u);
}

// A changed file on disk is not taken by a backend change: that waits for its own reload.
TEST_F(backend_command_test, a_change_applies_to_the_running_file_not_to_edits_on_disk) {
    std::string text = config_text(dir);
    text.replace(text.find("capacity = 10"), 13, "capacity = 99");
    std::ofstream(path) << text;
    ASSERT_TRUE(command("backend set b2 weight=4").at("ok").get<bool>());
    EXPECT_EQ(named(p->config(), "b1")->config.capacity, 10u);
    EXPECT_EQ(named(p->config(), "b2")->config.weight, 4u);
    EXPECT_EQ(p->reload(), "");
    EXPECT_EQ(named(p->config(), "b1")->config.capacity, 99u);
    EXPECT_EQ(named(p->config(), "b2")->config.weight, 4u);
}

// A hand-edited state file of the wrong shape is an error naming it, never a crash.
TEST_F(backend_command_test, a_state_file_of_the_wrong_shape_is_refused_with_its_name) {
    for (const char* bad : {
                 R"({"added": [{"name": 5, "pools": ["core"]}]})",
                 R"({"added": [{"name": "b5", "pools": "core"}]})",
                 R"({"set": {"b1": 3}})",
                 R"({"removed": [7]})",
                 R"({"set": [], "added": {}, "removed": "b1"})",
                 "not json",
         }) {
        std::ofstream(dir + "/backends.json") << bad;
        const config_result r = load_config(path);
        EXPECT_FALSE(r.config) << bad;
        EXPECT_NE(r.error.message.find("backends.json"), std::string::npos)
                << bad << ": " << r.error.message;
    }
    std::ofstream(dir + "/backends.json") << R"({"set": {"b1": {"weight": "heavy"}}})";
    const config_result typed = load_config(path); // the reader judges the value
    EXPECT_FALSE(typed.config);
    EXPECT_NE(typed.error.message.find("weight"), std::string::npos) << typed.error.message;
}

} // namespace

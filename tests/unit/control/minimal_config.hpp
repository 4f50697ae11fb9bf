// SPDX-License-Identifier: BSD-3-Clause
// The smallest configuration the reader takes, for tests that add to it: one listen address,
// one backend, one pool. Ten lines: a key appended to it is on line 11.
#pragma once

#include <string>

namespace sipredir::test {

inline const std::string minimal_config = R"([listen]
addresses = ["198.18.0.1"]

[[backend]]
name = "b1"
address = "198.18.1.1:5060"

[[pool]]
name = "default"
backends = ["b1"]
)";

} // namespace sipredir::test

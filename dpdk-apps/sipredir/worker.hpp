// SPDX-License-Identifier: BSD-3-Clause
// A worker lcore: burst RX, the pipeline per frame, burst TX, on its own queue pair.
#pragma once

#include "app.hpp"

namespace sipredir::app {

struct worker_launch {
    appliance* app = nullptr;
    std::size_t index = 0; // into app->workers
};

// rte_eal_remote_launch entry point; `arg` is a worker_launch*.
int worker_main(void* arg);

} // namespace sipredir::app

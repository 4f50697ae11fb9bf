// SPDX-License-Identifier: BSD-3-Clause
// The race pools' path through the control lcore: workers put a race pool's request on their
// own ring (the mbuf, its pool index in hash.usr); the control lcore hands each to the race
// engine and frees the mbuf; when a race ends, the reply is built here by the same pipeline
// code the workers run, and sent by worker 0 like the kernel's frames.
#pragma once

#include "app.hpp"

#include <control/plane.hpp>
#include <pipeline/held_request.hpp>
#include <span>
#include <vector>

namespace sipredir::app {

// One SP/SC ring per worker, worker to control.
void create_race_rings(appliance& a);

class race_path {
public:
    // `control_index`: the control lcore's own redirect counters (a.redirects->of(index)).
    race_path(appliance& a, std::size_t control_index);

    // Moves up to one burst per worker into the plane; returns how many requests moved. At exit
    // (workers stopped) this hands over what is left: the plane counts each answer it could not
    // send.
    unsigned pump(control::plane& plane);
    // Builds the reply to `request` as decided and queues it for worker 0; false when it cannot.
    bool answer(pipeline::held_request& request, const pipeline::race_decision& d);

private:
    appliance& _app;
    pipeline::identity _identity; // the workers', with every check done in software
    pipeline::worker_state _state;
    std::vector<char> _scratch;
    std::vector<std::uint8_t> _request; // a chained request, read out of its mbufs
};

} // namespace sipredir::app

// SPDX-License-Identifier: BSD-3-Clause
// The load table: the one pointer through which workers see the current table snapshot,
// published by the control thread and reclaimed after a QSBR grace period (sync::published).
#pragma once

#include "snapshot.hpp"

#include <sync/published.hpp>

namespace sipredir::balance {

using load_table = sync::published<table_snapshot>;

} // namespace sipredir::balance

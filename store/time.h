// Timestamps as the store writes them: UTC ISO 8601 with milliseconds, "2025-11-24T08:10:00.123Z",
// so that text order is time order.
#pragma once

#include <string>

namespace hwnas::store {

std::string now_utc();

}  // namespace hwnas::store

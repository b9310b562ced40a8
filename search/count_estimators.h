// The counting estimators: `params` (millions) and `macs` (GMACs, executed, per image). The usual
// baselines of zero-cost proxy studies: bigger networks of one family are more accurate.
#pragma once

#include <memory>
#include <string_view>

#include "search/estimator.h"

namespace hwnas::search {

// "params" or "macs"; nullptr for another name.
std::unique_ptr<Estimator> make_count_estimator(std::string_view name);

}  // namespace hwnas::search

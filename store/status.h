// Result of an operation that has no value: Ok or an Error (space/result.h).
#pragma once

#include "space/result.h"

namespace hwnas::store {

struct Ok {};
using Status = Result<Ok>;

}  // namespace hwnas::store

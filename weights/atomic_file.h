// A file written whole or not at all: the bytes go to PATH.tmp, which is renamed onto PATH only
// after every write succeeded (and removed otherwise), so a reader never sees half a file and an
// interrupted write leaves the old PATH as it was.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "space/result.h"

namespace hwnas::weights {

// `write` puts the content on the stream (binary mode). The error names `path`.
Result<bool> write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace hwnas::weights

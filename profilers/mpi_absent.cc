// Builds without MPI: a farm is refused with the reason; nothing else can be reached without a
// Session.
#include <cstdlib>

#include "profilers/mpi/farm.h"

namespace hwnas::prof::mpi {
namespace {
const char* const kWhy =
    "this hwnas was built without MPI (no MPI found at configure time: install libopenmpi-dev and openmpi-bin, then "
    "configure again; HWNAS_MPI=ON requires it)";
}

bool built() {
  return false;
}

std::string library_version() {
  return "not built (no MPI at configure time)";
}

Result<std::unique_ptr<Session>> Session::start(int* /*argc*/, char*** /*argv*/) {
  return Error{kWhy};
}
Session::~Session() = default;
void Session::abort(int code) const {
  std::exit(code);
}
Result<std::unique_ptr<Coordinator>> Coordinator::connect(const Session& /*session*/, double /*hello_timeout_s*/) {
  return Error{kWhy};
}
Coordinator::~Coordinator() = default;
std::size_t Coordinator::workers_on(const std::string& /*route*/) const {
  return 0;
}
void Coordinator::stop() {}
Status Coordinator::run(const std::vector<Job>& /*jobs*/, const std::function<Status(const Reply&)>& /*on_reply*/) {
  return Error{kWhy};
}
Status serve(const Session& /*session*/, const std::string& /*route*/, const std::string& /*hello*/,
             const std::function<std::string(const std::string& job)>& /*handle*/) {
  return Error{kWhy};
}

}  // namespace hwnas::prof::mpi

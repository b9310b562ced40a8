// Every test process writes its files in one folder of its own, removed when its tests end.
//
// scratch_path("a.db") → <TempDir>/hwnas_test_<pid>/a.db. The folder is made on first use and removed
// (read-only files included) by a gtest environment after the last test of the process, so a test
// run leaves nothing behind however many files its tests write. HWNAS_KEEP_TEST_FILES=1 keeps it for
// a look after a failure. ctest gives TempDir() a folder in the build tree (TEST_TMPDIR, see
// cmake/HwnasModule.cmake), so even a crashed test's files stay out of /tmp.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace hwnas::test {

// Where this process's folder is (made or not).
inline std::filesystem::path scratch_location() {
  return std::filesystem::path(testing::TempDir()) / fmt::format("hwnas_test_{}", ::getpid());
}

inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = scratch_location();
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// A path in this process's scratch folder (the same path for the same name: nothing is removed).
inline std::string scratch_path(const std::string& name) {
  return (scratch_dir() / name).string();
}

class RemoveScratch : public testing::Environment {
 public:
  void TearDown() override {
    const char* keep = std::getenv("HWNAS_KEEP_TEST_FILES");
    if (keep != nullptr && *keep != '\0' && std::string(keep) != "0") return;
    const std::filesystem::path dir = scratch_location();
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return;
    // Tests make files and folders read-only on purpose; give them back before removing.
    namespace fs = std::filesystem;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
  }
};
inline testing::Environment* const kRemoveScratch = testing::AddGlobalTestEnvironment(new RemoveScratch);

}  // namespace hwnas::test

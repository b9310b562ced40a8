// Helpers for the store's tests: fresh paths in the scratch folder, sample records, file bytes.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "tests/scratch.h"

namespace hwnas::store::testutil {

// A path no other test uses, in this process's scratch folder (removed when its tests end); any old
// file and its -wal/-shm/-journal are removed.
inline std::string fresh_path(const std::string& name) {
  static std::atomic<int> counter{0};
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const std::string test_name = info != nullptr ? info->name() : "test";
  const std::string path = test::scratch_path(fmt::format("store_{}_{}_{}", test_name, counter++, name));
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
  return path;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline DeviceRecord device(const std::string& fingerprint, const std::string& model = "Test CPU") {
  DeviceRecord d;
  d.fingerprint = fingerprint;
  d.kind = "cpu";
  d.model = model;
  d.cores = 8;
  d.threads = 4;
  d.isa = "avx512_core_bf16";
  d.bf16_native = true;
  d.engine = "oneDNN 3.5.3";
  d.peak_f32_gflops = 1234.5;
  d.peak_bf16_gflops = 2469.25;
  d.triad_gbs = 87.5;
  return d;
}

inline std::string hash_of(int i) {
  return fmt::format("{:016x}", 0xa000000000000000ULL + static_cast<unsigned>(i));
}

inline ArchRecord arch(int i) {
  ArchRecord a;
  a.hash = hash_of(i);
  a.canonical = fmt::format(R"({{"arch":{}}})", i);
  a.name = fmt::format("arch-{}", i);
  a.macs = 1000000 + i;
  a.params = 5000 + i;
  return a;
}

inline MeasurementKey key(const std::string& subject_hash, const std::string& device_fp, std::int64_t batch = 1) {
  MeasurementKey k;
  k.subject_hash = subject_hash;
  k.device = device_fp;
  k.backend = "onednn";
  k.batch = batch;
  k.dtype = "f32";
  k.threads = 4;
  k.protocol = "standard";
  return k;
}

// A network measurement of arch(i) on `device_fp`; figures derived from `seed`.
inline MeasurementRecord network(int i, const std::string& device_fp, std::int64_t batch = 1, double seed = 1) {
  MeasurementRecord m;
  m.kind = SubjectKind::network;
  m.arch_hash = hash_of(i);
  m.key = key(m.arch_hash, device_fp, batch);
  auto& f = m.figures;
  f.figure_us = 100 * seed;
  f.median_us = 100 * seed;
  f.min_us = 90 * seed;
  f.p10_us = 95 * seed;
  f.p90_us = 110 * seed;
  f.p99_us = 130 * seed;
  f.mean_us = 102.5 * seed;
  f.ci_low_us = 99 * seed;
  f.ci_high_us = 101 * seed;
  f.cv = 0.0123;
  f.n = 5;
  f.calls_per_sample = 2;
  f.warmup_runs = 10;
  f.elapsed_ms = 250.75;
  f.noisy = seed > 2;
  f.noise_reason = seed > 2 ? "IQR 12% of the median" : "";
  f.samples_us = {0.1 + seed, 1.0 / 3.0, 1e-300, 123456.789, -0.0};
  m.detail_json = R"({"note":"network"})";
  return m;
}

inline MeasurementRecord unit(int i, const std::string& device_fp, int position, const std::string& label) {
  MeasurementRecord m = network(i, device_fp);
  m.kind = SubjectKind::unit;
  m.label = label;
  m.unit_kind = "block";
  m.position = position;
  m.key.subject_hash = subject_hash(m.arch_hash, label);
  m.figures.figure_us = 10.0 + position;
  m.detail_json = R"j({"mixer":"msa","ffn":"mlp(768)","tokens":197,"dim":192})j";
  return m;
}

}  // namespace hwnas::store::testutil

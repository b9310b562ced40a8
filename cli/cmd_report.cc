// hwnas report: one self-contained HTML page comparing what the store holds (search runs, profiled
// presets and files, cost models, devices), or the JSON/CSV twins of its tables.
#include <filesystem>

#include <fmt/format.h>

#include "cli/db_common.h"
#include "cli/output_file.h"
#include "cli/report_data.h"
#include "reports/html.h"
#include "reports/render.h"

namespace hwnas::cli {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> strings(const po::variables_map& vm, const char* key) {
  return vm.count(key) != 0 ? vm[key].as<std::vector<std::string>>() : std::vector<std::string>{};
}

}  // namespace

int run_report(const Args& args) {
  const std::string usage =
      "hwnas report [--db PATH] [--run ID ...] [--compress-run ID ...] [--preset NAME ...] [--arch FILE ...] [--device "
      "D ...] [--all-archs] "
      "[--format html|json|csv] [-o OUT]";
  po::options_description desc("report: an HTML page comparing the store's architectures, runs, models and devices");
  desc.add_options()("db", po::value<std::string>(), "the store (default: $HWNAS_DB, else ./hwnas.db)")(
      "run", po::value<std::vector<std::string>>()->composing(), "search run id or unique prefix (default: every run)")(
      "compress-run", po::value<std::vector<std::string>>()->composing(),
      "compression run id or unique prefix (default: every one)")(
      "preset", po::value<std::vector<std::string>>()->composing(),
      "preset to include (default: every preset measured in the store)")(
      "arch", po::value<std::vector<std::string>>()->composing(), "architecture JSON file to include")(
      "device", po::value<std::vector<std::string>>()->composing(),
      "device to include: fingerprint prefix, cpu, cuda[:N] or part of the model name (default: all)")(
      "all-archs", "every architecture measured in the store (calibration samples included)")(
      "title", po::value<std::string>()->default_value("hwnas report"), "the page's title")(
      "format", po::value<std::string>()->default_value("html"),
      "html (the page), json (every table, one file) or csv (one file per table in the folder OUT)")(
      "max-points", po::value<std::size_t>()->default_value(1500), "scatter points drawn per chart (more are thinned)")(
      "max-rows", po::value<std::size_t>()->default_value(250), "rows shown per HTML table (the twins hold all)")(
      "output,o", po::value<std::string>(),
      "output file (folder for csv; default report.html, report.json, report-csv)");
  po::positional_options_description positional;
  positional.add("arch", -1);
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;
  const std::string format = vm["format"].as<std::string>();
  if (format != "html" && format != "json" && format != "csv")
    throw UsageError(fmt::format("--format: must be html, json or csv (got '{}')", format));
  const std::string out = vm.count("output") != 0 ? vm["output"].as<std::string>()
                          : format == "html"      ? "report.html"
                          : format == "json"      ? "report.json"
                                                  : "report-csv";

  const std::string path = db_path(vm);
  if (!fs::exists(path)) throw UsageError(fmt::format("{}: no such store (run hwnas profile or search first)", path));
  store::Store db = open_store_or_usage_error(path, store::OpenMode::read_only);
  ReportSelection sel;
  sel.runs = strings(vm, "run");
  sel.compress_runs = strings(vm, "compress-run");
  sel.presets = strings(vm, "preset");
  sel.arch_files = strings(vm, "arch");
  sel.devices = strings(vm, "device");
  sel.all_archs = vm.count("all-archs") != 0;
  reports::ReportData data = gather_report(db, sel);
  data.title = vm["title"].as<std::string>();
  reports::RenderOptions opts;
  opts.max_points = vm["max-points"].as<std::size_t>();
  opts.max_rows = std::max<std::size_t>(1, vm["max-rows"].as<std::size_t>());
  const reports::Rendered r = reports::render(data, opts);

  if (format == "html") {
    write_output_file(out, r.html);
    fmt::print(
        "wrote {} ({:.0f} kB): {}\n", out, static_cast<double>(r.html.size()) / 1024,
        r.sections.empty() ? "nothing to report for this selection" : fmt::format("{}", fmt::join(r.sections, ", ")));
  } else if (format == "json") {
    write_output_file(out, reports::to_json_text(r.tables));
    fmt::print("wrote {}: {} tables\n", out, r.tables.size());
  } else {
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) throw RuntimeFailure(fmt::format("{}: cannot create the folder ({})", out, ec.message()));
    for (const reports::Table& t : r.tables)
      write_output_file((fs::path(out) / (t.id + ".csv")).string(), reports::to_csv(t));
    fmt::print("wrote {} CSV files to {}/\n", r.tables.size(), out);
  }
  fmt::print("  {} device(s), {} architecture(s), {} search run(s), {} compression run(s), {} cost model(s)\n",
             data.devices.size(), data.archs.size(), data.runs.size(), data.compress_runs.size(), data.models.size());
  return kExitOk;
}

}  // namespace hwnas::cli

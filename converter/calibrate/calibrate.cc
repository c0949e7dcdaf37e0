#include "calibrate/calibrate.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "io/progress.h"

namespace octet::converter {

CalibrationResult calibrate(const std::shared_ptr<const Model>& model, const CalibrationData& data,
                            const CalibrationOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  SessionOptions so;
  so.threads = opts.threads;
  so.backend = opts.backend;
  Session session(model, so);
  std::map<std::string, RangeObserver> obs;
  int pass = 0;
  session.set_observer([&](const std::string&, const std::string& tensor, const TensorView& v) {
    if (v.dtype != DataType::f32) return;
    RangeObserver& o = obs[tensor];
    if (pass == 0) o.observe_minmax(v.as<float>(), v.elements());
    else o.observe_hist(v.as<float>(), v.elements());
  });
  const int passes = needs_histogram(opts.method) ? 2 : 1;
  io::Progress bar("calibrating", data.size() * passes, opts.progress);
  for (pass = 0; pass < passes; ++pass) {
    for (size_t i = 0; i < data.size(); ++i) {
      auto sample = data.load(i);
      for (auto& [name, t] : sample) {
        session.set_input(name, t.view());
        if (t.dtype != DataType::f32) continue;
        RangeObserver& o = obs[name];
        if (pass == 0) o.observe_minmax(t.as<float>(), t.elements());
        else o.observe_hist(t.as<float>(), t.elements());
      }
      try {
        session.run();
      } catch (const Error& e) {
        throw Error(data.files()[i] + ": running the float model on this sample failed: " + e.what());
      }
      bar.update(pass * data.size() + i + 1, passes > 1 ? (pass ? "(histograms)" : "(ranges)") : "");
    }
  }
  bar.finish();
  CalibrationResult r;
  for (const auto& [name, o] : obs) {
    r.ranges[name] = o.range(opts.full_range.count(name) ? CalibMethod::MinMax : opts.method, opts.percentile);
    if (std::getenv("OCTET_DEBUG_CALIB")) std::fprintf(stderr, "%-50s minmax [%g, %g] -> [%g, %g]\n", name.c_str(), o.min(), o.max(), r.ranges[name].first, r.ranges[name].second);
  }
  r.samples = data.size();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace octet::converter

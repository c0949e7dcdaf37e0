// octet_conformance: ONNX's own backend test suite (Debian's libonnx-testdata) run through octet.
//
// For every test folder (model.onnx + test_data_set_N/{input,output}_K.pb) it converts the model
// with --precision float, runs every data set and compares as ONNX's runner does
// (onnx/backend/test/runner: numpy's assert_allclose with rtol 1e-3, atol 1e-5, NaN equal to NaN;
// dtypes and shapes must match; integers and bool exactly). Each test runs in a child process of
// its own, so a crash or a hang is a result ("crash: SIGSEGV", "timeout") instead of the end of
// the run; the parent never runs a kernel (forking after OpenMP has started is not safe).
//
// With --expected FILE it compares against recorded results: a test recorded as passing that
// does not pass now is a regression (exit status 1); a newly passing test is reported so that
// the file can be updated with --write-expected. The file is the list of what octet does not
// run, and why (tests/conformance/README.md).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "convert.h"
#include "io/progress.h"
#include "octet/octet.h"
#include "onnx_import.h"

namespace fs = std::filesystem;
using namespace octet;

namespace {

struct Test {
  std::string id;    // suite/name, as in the expected-results file
  fs::path dir;
};

struct Result {
  std::string status;   // pass | fail | error | crash | timeout
  std::string reason;   // one line; empty for pass
};

std::string one_line(std::string s, const std::string& strip) {
  for (size_t p; !strip.empty() && (p = s.find(strip)) != std::string::npos;) s.erase(p, strip.size());
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > 240) s = s.substr(0, 237) + "...";
  return s;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

double value_at(const void* p, DataType t, int64_t i) {
  switch (t) {
    case DataType::f32: return static_cast<const float*>(p)[i];
    case DataType::u8: return static_cast<const uint8_t*>(p)[i];
    case DataType::s8: return static_cast<const int8_t*>(p)[i];
    case DataType::s32: return static_cast<const int32_t*>(p)[i];
    case DataType::i64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DataType::boolean: return static_cast<const uint8_t*>(p)[i] ? 1 : 0;
  }
  return 0;
}

// "" when `got` matches `want` as ONNX's runner would accept it; otherwise why not. `want` holds
// the expected values in the type octet computes that ONNX type in (DOUBLE and FLOAT16 in f32,
// INT16/UINT16 in s32, UINT32 in i64: the converter's documented mapping), so a DOUBLE output is
// compared in f32 with ONNX's tolerances.
std::string compare(const std::string& name, const TensorView& got, const converter::Constant& want, int want_type) {
  const DataType wt = want.dtype;
  if (got.dtype != wt)
    return "output '" + name + "' is " + dtype_name(got.dtype) + ", expected " + converter::onnx_type_name(want_type);
  if (got.shape != want.shape)
    return "output '" + name + "' has shape " + shape_str(got.shape) + ", expected " + shape_str(want.shape);
  const int64_t n = want.elements();
  const size_t size = dtype_size(wt);
  const auto* got_bytes = static_cast<const uint8_t*>(got.data);
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool ok;
    if (wt == DataType::f32) {
      const double a = got.as<float>()[i], b = want.as<float>()[i];
      ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= 1e-5 + 1e-3 * std::fabs(b);
      if (!ok && std::isfinite(a) && std::isfinite(b)) worst = std::max(worst, std::fabs(a - b));
    } else {   // integers and bool exactly, compared as stored (int64 beyond 2^53 too)
      ok = std::memcmp(got_bytes + i * size, want.bytes.data() + i * size, size) == 0;
      if (!ok) worst = std::max(worst, std::fabs(value_at(got.data, wt, i) - value_at(want.bytes.data(), wt, i)));
    }
    if (!ok && first < 0) first = i;
    bad += !ok;
  }
  if (!bad) return "";
  std::ostringstream s;
  s << "output '" << name << "': " << bad << " of " << n << " values differ (max |diff| " << worst << "; first at " << first
    << ": " << value_at(got.data, got.dtype, first) << " vs " << value_at(want.bytes.data(), wt, first) << ")";
  return s.str();
}

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  // input_10.pb after input_9.pb: sort by the number, not the text
  std::sort(out.begin(), out.end(), [&](const fs::path& a, const fs::path& b) {
    auto num = [&](const fs::path& p) { return std::atoi(p.filename().string().c_str() + prefix.size()); };
    return num(a) < num(b);
  });
  return out;
}

// Runs one test in this (child) process.
Result run_test(const Test& t, const std::string& backend, const fs::path& work) {
  const std::string onnx = (t.dir / "model.onnx").string();
  const std::string strip = t.dir.string() + "/";
  try {
    converter::ConvertOptions o;
    o.input = onnx;
    o.output = (work / "model.json").string();
    o.precision = "float";
    o.quiet = true;
    std::ostringstream log;
    converter::convert(o, log);
    auto model = Model::load(o.output);
    SessionOptions so;
    so.backend = backend;
    so.threads = 1;
    Session session(model, so);
    const converter::OnnxSignature sig = converter::read_onnx_signature(onnx);
    auto sets = sorted_files(t.dir, "test_data_set_");
    if (sets.empty()) return {"error", "no test_data_set_* folder"};
    for (const fs::path& set : sets) {
      auto inputs = sorted_files(set, "input_");
      auto outputs = sorted_files(set, "output_");
      if (inputs.size() > sig.inputs.size())
        return {"error", set.filename().string() + " has " + std::to_string(inputs.size()) + " inputs, the model " +
                             std::to_string(sig.inputs.size())};
      for (size_t k = 0; k < inputs.size(); ++k) {
        int type = 0;
        // In octet's type for it (a DOUBLE input as f32: what a user of the converted model passes).
        converter::Constant c = converter::read_tensor_file(inputs[k].string(), &type);
        bool present = false;
        for (const auto& in : model->inputs()) present |= in.name == sig.inputs[k];
        if (!present) continue;   // an input the graph does not use: the converter drops it
        session.set_input(sig.inputs[k], TensorView{c.dtype, c.shape, c.bytes.data()});
      }
      session.run();
      if (outputs.size() > sig.outputs.size()) return {"error", set.filename().string() + " has more outputs than the model"};
      for (size_t k = 0; k < outputs.size(); ++k) {
        int type = 0;
        converter::Constant want = converter::read_tensor_file(outputs[k].string(), &type);
        std::string why = compare(sig.outputs[k], session.output(sig.outputs[k]), want, type);
        if (!why.empty()) return {"fail", set.filename().string() + ": " + why};
      }
    }
    return {"pass", ""};
  } catch (const std::exception& e) {
    return {"error", one_line(e.what(), strip)};
  }
}

const char* signal_name(int s) {
  switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    default: return "signal";
  }
}

struct Child {
  pid_t pid;
  int fd;
  size_t index;
  fs::path work;
  std::string out;
  std::chrono::steady_clock::time_point start;
};

Child start(const Test& t, size_t index, const std::string& backend, const fs::path& tmp_root) {
  int p[2];
  if (pipe(p) != 0) throw Error("pipe() failed");
  const fs::path work = tmp_root / std::to_string(index);
  fs::create_directories(work);
  const pid_t pid = fork();
  if (pid < 0) throw Error("fork() failed");
  if (pid == 0) {
    close(p[0]);
    // Test output on the child's stdout/stderr (kernel warnings) would garble the parent's; stderr
    // goes to a file so that a crash (a sanitizer report, an abort message) can be quoted.
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    int log = open((work / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) dup2(log, 2);
    Result r = run_test(t, backend, work);
    std::string line = r.status + "\t" + r.reason + "\n";
    ssize_t ignored = write(p[1], line.data(), line.size());
    (void)ignored;
    close(p[1]);
    _exit(0);
  }
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  return {pid, p[0], index, work, "", std::chrono::steady_clock::now()};
}

// The line of a crashed child's stderr that says what happened (a sanitizer's "runtime error" or
// "ERROR:" line, else the last line), as ": <line>", or "" when there is none.
std::string crash_summary(const fs::path& stderr_file) {
  std::ifstream f(stderr_file);
  std::string line, last, found;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    last = line;
    if (found.empty() && (line.find("runtime error:") != std::string::npos || line.find("ERROR:") != std::string::npos))
      found = line;
  }
  std::string s = found.empty() ? last : found;
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  for (char& ch : s)
    if (ch == '\t' || static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  return s.empty() ? "" : ": " + s;
}

Result finish(Child& c, bool timed_out, int timeout) {
  int status = 0;
  if (timed_out) kill(c.pid, SIGKILL);
  waitpid(c.pid, &status, 0);
  char buf[4096];
  for (ssize_t n; (n = read(c.fd, buf, sizeof buf)) > 0;) c.out.append(buf, static_cast<size_t>(n));
  close(c.fd);
  const std::string why = crash_summary(c.work / "stderr.txt");
  std::error_code ec;
  fs::remove_all(c.work, ec);
  if (timed_out) return {"timeout", "took more than " + std::to_string(timeout) + " s"};
  if (WIFSIGNALED(status)) return {"crash", std::string("crash: ") + signal_name(WTERMSIG(status)) + why};
  auto tab = c.out.find('\t');
  if (tab == std::string::npos)
    return {"crash", "exited with status " + std::to_string(WEXITSTATUS(status)) + " and no result" + why};
  std::string reason = c.out.substr(tab + 1);
  while (!reason.empty() && reason.back() == '\n') reason.pop_back();
  return {c.out.substr(0, tab), reason};
}

std::map<std::string, Result> read_expected(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(path + ": cannot open the expected-results file");
  std::map<std::string, Result> out;
  std::string line;
  for (int no = 1; std::getline(f, line); ++no) {
    if (line.empty() || line[0] == '#') continue;
    auto a = line.find('\t');
    if (a == std::string::npos) throw Error(path + ":" + std::to_string(no) + ": expected 'suite/test<TAB>status[<TAB>reason]'");
    auto b = line.find('\t', a + 1);
    out[line.substr(0, a)] = {line.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1),
                              b == std::string::npos ? "" : line.substr(b + 1)};
  }
  return out;
}

void write_expected(const std::string& path, const std::vector<Test>& tests, const std::vector<Result>& results,
                    const std::map<std::string, Result>& keep) {
  std::map<std::string, Result> all = keep;
  for (size_t i = 0; i < tests.size(); ++i) all[tests[i].id] = results[i];
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << "# ONNX backend tests (libonnx-testdata 1.12; opset18-21: tests/conformance/data, made by\n"
         "# make_new_opset_tests.py) through octet, --precision float, default backend.\n"
         "# suite/test<TAB>status<TAB>reason. Written by octet_conformance --write-expected; CI fails when a\n"
         "# test listed as pass stops passing. What the statuses and reasons mean: README.md here.\n";
    for (const auto& [id, r] : all) f << id << '\t' << r.status << (r.reason.empty() ? "" : "\t" + r.reason) << '\n';
    if (!f) throw Error(path + ": cannot write");
  }
  fs::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"octet_conformance: runs ONNX's backend test suite (libonnx-testdata) through octet's converter and\n"
               "runtime in float, compares as ONNX's runner does (rtol 1e-3, atol 1e-5; integers and bool exactly), and\n"
               "checks the results against a recorded expected-results file.",
               "octet_conformance"};
  std::string data = "/usr/include/onnx/backend/test/data", suites = "node,pytorch-converted,pytorch-operator,simple";
  std::string filter, expected, write, backend = "auto";
  int jobs = 2, timeout = 60;
  bool verbose = false;
  app.add_option("--data", data, "the test data folder (holds node/, simple/, ...)")->capture_default_str();
  app.add_option("--suites", suites, "comma-separated suites to run")->capture_default_str();
  app.add_option("-f,--filter", filter, "only tests whose suite/name contains this text");
  app.add_option("--expected", expected, "expected-results file: fail (exit 1) when a test recorded as pass does not pass");
  app.add_option("--write-expected", write, "write the results to this file (tests not run this time are kept)");
  app.add_option("--backend", backend, "auto, onednn, xnnpack or reference")->capture_default_str();
  app.add_option("-j,--jobs", jobs, "tests run at once (one process each)")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--timeout", timeout, "seconds a test may take")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "print every test's result, not only the summary");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<Test> tests;
    std::string list = suites;
    for (size_t pos = 0; pos <= list.size();) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      const std::string suite = list.substr(pos, comma - pos);
      pos = comma + 1;
      if (suite.empty()) continue;
      const fs::path sdir = fs::path(data) / suite;
      if (!fs::is_directory(sdir)) {
        if (!fs::is_directory(data)) {   // CTest reads 77 as SKIPPED
          std::cout << "SKIPPED: " << data << " does not exist (apt-get install libonnx-testdata)\n";
          return 77;
        }
        throw Error(sdir.string() + ": no such test suite folder");
      }
      for (const auto& e : fs::directory_iterator(sdir)) {
        if (!fs::exists(e.path() / "model.onnx")) continue;
        Test t{suite + "/" + e.path().filename().string(), e.path()};
        if (filter.empty() || t.id.find(filter) != std::string::npos) tests.push_back(t);
      }
    }
    std::sort(tests.begin(), tests.end(), [](const Test& a, const Test& b) { return a.id < b.id; });
    if (tests.empty()) throw Error("no tests match");

    const fs::path tmp_root = fs::temp_directory_path() / ("octet_conformance_" + std::to_string(getpid()));
    fs::create_directories(tmp_root);
    std::vector<Result> results(tests.size());
    std::vector<Child> running;
    size_t next = 0, done = 0;
    io::Progress progress("conformance", tests.size(), isatty(2));
    while (done < tests.size()) {
      while (running.size() < static_cast<size_t>(jobs) && next < tests.size()) running.push_back(start(tests[next], next, backend, tmp_root)), ++next;
      std::vector<pollfd> fds;
      for (const Child& c : running) fds.push_back({c.fd, POLLIN, 0});
      poll(fds.data(), fds.size(), 200);
      for (size_t i = 0; i < running.size();) {
        Child& c = running[i];
        char buf[4096];
        ssize_t n;
        bool eof = false;
        while ((n = read(c.fd, buf, sizeof buf)) > 0) c.out.append(buf, static_cast<size_t>(n));
        if (n == 0) eof = true;
        const bool late = std::chrono::steady_clock::now() - c.start > std::chrono::seconds(timeout);
        if (eof || late) {
          results[c.index] = finish(c, !eof && late, timeout);
          if (verbose) std::cout << tests[c.index].id << '\t' << results[c.index].status << '\t' << results[c.index].reason << std::endl;
          running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
          progress.update(++done, tests[c.index].id);
        } else {
          ++i;
        }
      }
    }
    progress.finish();
    std::error_code ec;
    fs::remove_all(tmp_root, ec);

    // Summary: per suite, and the most common reasons.
    std::map<std::string, std::pair<int, int>> per_suite;
    std::map<std::string, int> crashes;
    for (size_t i = 0; i < tests.size(); ++i) {
      const std::string suite = tests[i].id.substr(0, tests[i].id.find('/'));
      per_suite[suite].second++;
      if (results[i].status == "pass") per_suite[suite].first++;
      if (results[i].status == "crash" || results[i].status == "timeout") crashes[tests[i].id]++;
    }
    for (const auto& [suite, pt] : per_suite)
      std::cout << "conformance: " << suite << " " << pt.first << "/" << pt.second << " pass ("
                << (pt.second ? 100 * pt.first / pt.second : 0) << "%)\n";
    for (const auto& [id, n] : crashes) std::cout << "conformance: CRASH or TIMEOUT " << id << "\n";

    int status = 0;
    if (!expected.empty()) {
      const std::map<std::string, Result> recorded = read_expected(expected);
      int regressions = 0, improvements = 0;
      for (size_t i = 0; i < tests.size(); ++i) {
        auto it = recorded.find(tests[i].id);
        const bool was = it != recorded.end() && it->second.status == "pass", is = results[i].status == "pass";
        if (was && !is) {
          std::cout << "conformance: REGRESSION " << tests[i].id << ": " << results[i].status << ": " << results[i].reason << "\n";
          ++regressions;
        } else if (!was && is) {
          std::cout << "conformance: newly passing " << tests[i].id << "\n";
          ++improvements;
        }
      }
      std::cout << "conformance: " << regressions << " regressions, " << improvements << " newly passing against " << expected
                << (improvements ? " (record them: --write-expected " + expected + ")" : "") << "\n";
      if (regressions) status = 1;
    }
    if (!write.empty()) {
      // Tests not run this time (other suites, --filter) keep their recorded lines.
      const std::map<std::string, Result> keep = fs::exists(write) ? read_expected(write) : std::map<std::string, Result>{};
      write_expected(write, tests, results, keep);
      std::cout << "conformance: wrote " << write << "\n";
    }
    return status;
  } catch (const std::exception& e) {
    std::cerr << "octet_conformance: " << e.what() << "\n";
    return 2;
  }
}

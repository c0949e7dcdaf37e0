// octet: convert ONNX models to int8, run them, inspect them, benchmark them.
#include <cstdio>
#include <iostream>
#include <map>

#include "commands.h"
#include "octet/octet.h"

namespace octet::cli {
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}
}  // namespace octet::cli

int main(int argc, char** argv) {
  using namespace octet::cli;
  CLI::App app{"octet: int8 inference for CPUs. Convert an ONNX model to a calibrated int8 model, run it, inspect it,\n"
               "benchmark it. Run 'octet <command> --help' for a command's options.",
               "octet"};
  app.set_version_flag("--version", std::string("octet ") + octet::version());
  app.require_subcommand(1);
  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*adder)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Command c = adder(app);
    auto subs = app.get_subcommands({});
    if (c && subs.size() > before) commands[subs.back()] = std::move(c);
  };
#ifdef OCTET_WITH_CONVERTER
  add(add_convert);
  add(add_export_qdq);
#endif
  add(add_run);
  add(add_inspect);
  add(add_bench);
  add(add_eval);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [sub, cmd] : commands) {
    if (!sub->parsed()) continue;
    try {
      return cmd();
    } catch (const octet::Error& e) {
      std::fprintf(stderr, "octet %s: error: %s\n", sub->get_name().c_str(), e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "octet %s: error: %s\n", sub->get_name().c_str(), e.what());
      return 1;
    }
  }
  return 1;
}

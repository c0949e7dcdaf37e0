// The subcommands of the `octet` CLI. Each registers its options on the app and returns the
// function that runs it; main.cc turns octet::Error into one line on stderr and exit status 1.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace octet::cli {

using Command = std::function<int()>;

Command add_convert(CLI::App& app);   // only when built with the converter
Command add_export_qdq(CLI::App& app);   // only when built with the converter
Command add_run(CLI::App& app);
Command add_inspect(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_eval(CLI::App& app);

// "a,b,c" -> {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& s);

}  // namespace octet::cli

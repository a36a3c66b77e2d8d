// The subcommands of `pixelgrad`, one file each (tools/<name>_command.cpp). Each add_*_command
// registers its options on the parent CLI11 app and returns what to run when it was chosen.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace pg {

struct Command {
  CLI::App* app;
  std::function<int()> run;  // the exit code
};

Command add_train_command(CLI::App& parent);
Command add_eval_command(CLI::App& parent);
Command add_predict_command(CLI::App& parent);
Command add_list_command(CLI::App& parent);
Command add_toy_command(CLI::App& parent);
Command add_train_upp_command(CLI::App& parent);  // tools/train_upp_command.cpp

}  // namespace pg

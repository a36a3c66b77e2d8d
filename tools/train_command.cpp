// `pixelgrad train`: trains one architecture on toy data or a VOC-format folder with progress on
// the terminal, periodic validation, a CSV log and SVG plot, atomic checkpoints and exact resume,
// and ends with the metrics table and pictures of predictions on validation images.
//
//   <out>/checkpoint.safetensors   weights, optimizer state, step, options (resume / eval / predict)
//   <out>/log.csv, <out>/plot.svg   loss per step, validation mIoU
//   <out>/predictions/             grid.png (image | truth | prediction | overlay) and per-image PNGs
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/safetensors.h"
#include "nets/registry.h"
#include "tools/commands.h"
#include "tools/metrics_table.h"
#include "tools/prediction_images.h"
#include "tools/progress.h"
#include "tools/trainer.h"
#include "tools/training_log.h"

namespace pg {

namespace {

struct TrainCommandOptions {
  TrainOptions train;
  std::string out_dir;  // empty: runs/<arch>
  std::string resume;
  std::string init;
  int threads = 0;
  int64_t pictures = 8;
  // The flags given on the command line, each with how to copy its value into a run's options: a
  // resumed run starts from the checkpoint's options and takes only these over them.
  std::vector<std::pair<CLI::Option*, std::function<void(TrainOptions&, const TrainOptions&)>>> given;
};

template <typename T>
CLI::Option* add(CLI::App* app, TrainCommandOptions& o, const std::string& flags, T TrainOptions::*member,
                 const std::string& help) {
  CLI::Option* option = app->add_option(flags, o.train.*member, help)->capture_default_str();
  o.given.emplace_back(option,
                       [member](TrainOptions& to, const TrainOptions& from) { to.*member = from.*member; });
  return option;
}

// "must be > 0" for a number (CLI11's PositiveNumber prints its whole range of doubles).
const CLI::Validator kPositive(
    [](std::string& value) {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      return end != value.c_str() && *end == '\0' && v > 0 ? std::string()
                                                           : "must be a number > 0, got " + value;
    },
    "> 0");

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string describe_data(const TrainOptions& o, const TrainData& data) {
  if (!o.data_dir.empty())
    return str("VOC folder ", o.data_dir, ": ", data.train->size(), " train / ", data.val->size(),
               " val images");
  return str("toy data: ", o.toy_train, " train / ", o.toy_val, " val images ", o.toy_size, "x", o.toy_size);
}

int run_train(TrainCommandOptions& command) {
  if (command.threads > 0) omp_set_num_threads(command.threads);
  TrainOptions options = command.train;
  if (!command.resume.empty()) {
    // The checkpoint's options, with only the flags given on this command line over them;
    // Trainer::resume then refuses any that would change the run.
    options = options_from_metadata(load_safetensors(command.resume).metadata, command.resume);
    for (const auto& [option, copy] : command.given)
      if (option->count() > 0) copy(options, command.train);
  }
  validate(options);
  const std::string out = command.out_dir.empty() ? "runs/" + options.arch : command.out_dir;
  std::filesystem::create_directories(out);
  const std::string checkpoint = out + "/checkpoint.safetensors", csv = out + "/log.csv",
                    svg = out + "/plot.svg";

  const TrainData data = make_train_data(options);
  Trainer trainer(options, data);
  TrainingLog log;
  if (!command.init.empty()) {
    const InitReport report = trainer.init_from(command.init);
    std::printf("--init %s: loaded %zu tensors, %zu not in the file (kept their initialisation)%s\n",
                command.init.c_str(), report.loaded.size(), report.missing.size(),
                report.unused.empty() ? "" : str(", ", report.unused.size(), " in the file unused").c_str());
    for (const std::string& name : report.missing) std::printf("  not loaded: %s\n", name.c_str());
  }
  if (!command.resume.empty()) {
    trainer.resume(command.resume);
    log = TrainingLog::read_csv(csv, trainer.current_step());
    std::printf("resumed from %s at step %lld\n", command.resume.c_str(),
                static_cast<long long>(trainer.current_step()));
  }
  const int64_t val_every =
      options.val_every > 0 ? options.val_every : std::max<int64_t>(1, options.steps / 10);
  const int64_t ckpt_every = options.ckpt_every > 0 ? options.ckpt_every : val_every;
  std::printf("pixelgrad train: %s (%lld parameters, %d classes)\n  %s\n", options.arch.c_str(),
              static_cast<long long>(trainer.net().parameter_count()), trainer.net().num_classes(),
              describe_data(options, data).c_str());
  std::printf("  %lld steps of batch %d, %s lr %g (%s schedule), seed %llu, %d thread(s); writing to %s/\n",
              static_cast<long long>(options.steps), options.batch, options.optimizer.c_str(), options.lr,
              options.schedule.c_str(), static_cast<unsigned long long>(options.seed), omp_get_max_threads(),
              out.c_str());

  const auto start = std::chrono::steady_clock::now();
  const double earlier_seconds = log.rows().empty() ? 0 : log.rows().back().seconds;
  std::optional<ConfusionMatrix> final_confusion;  // the last step's validation (over all images)
  Progress progress(trainer.current_step(), options.steps, options.batch, isatty(STDOUT_FILENO) == 1);
  while (trainer.current_step() < options.steps) {
    const float lr = trainer.current_lr();
    const float loss = trainer.train_step();
    const int64_t step = trainer.current_step();
    LogRow row{.step = step, .loss = loss, .lr = lr, .seconds = earlier_seconds + seconds_since(start)};
    progress.step(step, loss);
    const auto pause = std::chrono::steady_clock::now();
    if (step % val_every == 0 || step == options.steps) {
      const ConfusionMatrix confusion = trainer.validate(step == options.steps ? 0 : options.eval_size);
      row.val_miou = confusion.mean_iou();
      row.val_pixel_accuracy = confusion.pixel_accuracy();
      progress.validated(step, row.val_miou, row.val_pixel_accuracy);
      if (step == options.steps) final_confusion = confusion;
    }
    log.add(row);
    if (step % ckpt_every == 0 || step == options.steps) {
      trainer.save_checkpoint(checkpoint);
      log.write_csv(csv);
      log.write_svg(svg, str(options.arch, " on ", describe_data(options, data)));
    }
    progress.exclude_time(seconds_since(pause));
  }
  progress.finish();

  const ConfusionMatrix confusion = final_confusion ? *final_confusion : trainer.validate(0);
  std::printf("\nvalidation (%lld images) after %lld steps, %.1f s:\n%s",
              static_cast<long long>(data.val->size()), static_cast<long long>(options.steps),
              earlier_seconds + seconds_since(start),
              metrics_table(confusion, data.val->class_names()).c_str());
  const std::string grid = write_prediction_pictures(trainer.net(), *data.val, command.pictures,
                                                     out + "/predictions", options.pad_multiple);
  std::printf(
      "\ncheckpoint  %s\nlog         %s, plot %s\npredictions %s (image | ground truth | prediction | "
      "overlay) and %s/predictions/*_pred.png, *_overlay.png\n",
      checkpoint.c_str(), csv.c_str(), svg.c_str(), grid.c_str(), out.c_str());
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& parent) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "train",
      "train an architecture on toy data (--toy N) or a VOC-format folder (--data DIR); writes a checkpoint, "
      "log.csv, plot.svg and prediction pictures under --out");
  add(app, *o, "--arch", &TrainOptions::arch, "architecture, e.g. unet-tiny (see pixelgrad list)");
  add(app, *o, "--toy", &TrainOptions::toy_train, "train on N toy images")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  add(app, *o, "--toy-val", &TrainOptions::toy_val, "toy validation images (never among the training ones)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  add(app, *o, "--toy-size", &TrainOptions::toy_size, "side of the toy images")->check(CLI::Range(8, 4096));
  add(app, *o, "--data", &TrainOptions::data_dir, "VOC-format folder (splits train and val)");
  add(app, *o, "--steps", &TrainOptions::steps, "training steps")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  add(app, *o, "--batch", &TrainOptions::batch, "images per step")->check(CLI::Range(1, 4096));
  add(app, *o, "--seed", &TrainOptions::seed, "seed of the weights, shuffling and augmentation")
      ->check(CLI::NonNegativeNumber);
  add(app, *o, "--optimizer", &TrainOptions::optimizer, "adam or sgd")->check(CLI::IsMember({"adam", "sgd"}));
  add(app, *o, "--lr", &TrainOptions::lr, "base learning rate")->check(kPositive);
  add(app, *o, "--momentum", &TrainOptions::momentum, "SGD momentum")->check(CLI::Range(0.0, 0.9999));
  add(app, *o, "--weight-decay", &TrainOptions::weight_decay, "L2 weight decay")
      ->check(CLI::NonNegativeNumber);
  add(app, *o, "--schedule", &TrainOptions::schedule,
      "lr schedule over the run: poly, step, cosine or constant")
      ->check(CLI::IsMember({"poly", "step", "cosine", "constant"}));
  add(app, *o, "--warmup", &TrainOptions::warmup, "linear lr warm-up steps")->check(CLI::NonNegativeNumber);
  add(app, *o, "--augment", &TrainOptions::augment,
      "1: random scale 0.5-2, crop and flip; 0: none; -1: off on toy data, on for --data")
      ->check(CLI::Range(-1, 1));
  add(app, *o, "--crop", &TrainOptions::crop,
      "training crop side with --augment (0: toy size, 320 for --data)")
      ->check(CLI::NonNegativeNumber);
  add(app, *o, "--val-every", &TrainOptions::val_every, "steps between validations (0: ten per run)")
      ->check(CLI::NonNegativeNumber);
  add(app, *o, "--ckpt-every", &TrainOptions::ckpt_every, "steps between checkpoints (0: at each validation)")
      ->check(CLI::NonNegativeNumber);
  add(app, *o, "--eval-size", &TrainOptions::eval_size,
      "validation images used by the periodic validations (0: all; the final one uses all)")
      ->check(CLI::NonNegativeNumber);
  add(app, *o, "--eval-batch", &TrainOptions::eval_batch, "images per evaluation batch")
      ->check(CLI::Range(1, 4096));
  app->add_option("--out", o->out_dir, "output folder (default runs/<arch>)");
  app->add_option("--resume", o->resume,
                  "continue the run of this checkpoint exactly (its settings are kept)")
      ->check(CLI::ExistingFile);
  app->add_option("--init", o->init,
                  "start from this checkpoint's (or weights file's) tensors, matched by name")
      ->check(CLI::ExistingFile);
  app->add_option("--threads", o->threads, "OpenMP threads (default: OMP_NUM_THREADS or all cores)")
      ->check(CLI::Range(1, 1024));
  app->add_option("--pictures", o->pictures, "validation images drawn under <out>/predictions")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  return {app, [o] { return run_train(*o); }};
}

}  // namespace pg

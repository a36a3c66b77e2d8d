// `pixelgrad eval`: a checkpoint's metrics table (per class IoU and accuracy, pixel accuracy,
// mean class accuracy, mIoU, frequency-weighted IoU) on a dataset: the run's own validation set
// by default, or a VOC-format folder's split.
#include <omp.h>

#include <cstdio>
#include <memory>

#include "core/error.h"
#include "tools/commands.h"
#include "tools/metrics_table.h"
#include "tools/trainer.h"

namespace pg {

namespace {

struct EvalOptions {
  std::string checkpoint;
  std::string data_dir;  // empty: the checkpoint's own validation data
  int64_t count = 0;
  int batch = 16;
  int threads = 0;
};

int run_eval(const EvalOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  TrainOptions run;
  std::shared_ptr<SegmentationNet> net = load_net_from_checkpoint(o.checkpoint, &run);
  if (!o.data_dir.empty()) run.data_dir = o.data_dir, run.toy_train = 0;
  const TrainData data = make_train_data(run);
  check(data.val->num_classes() == net->num_classes(), o.checkpoint, " predicts ", net->num_classes(),
        " classes but the data has ", data.val->num_classes());
  const ConfusionMatrix confusion = evaluate(*net, *data.val, o.count, o.batch, run.pad_multiple);
  const int64_t images = o.count > 0 ? std::min(o.count, data.val->size()) : data.val->size();
  std::printf("%s (%s) on %lld validation images%s:\n%s", o.checkpoint.c_str(), run.arch.c_str(),
              static_cast<long long>(images),
              run.data_dir.empty() ? str(" (toy, ", run.toy_size, "x", run.toy_size, ")").c_str()
                                   : str(" of ", run.data_dir).c_str(),
              metrics_table(confusion, data.val->class_names()).c_str());
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& parent) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* app = parent.add_subcommand(
      "eval", "a checkpoint's metrics (per class and mean) on its validation data or a VOC-format folder");
  app->add_option("--ckpt", o->checkpoint, "checkpoint written by pixelgrad train")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("--data", o->data_dir, "VOC-format folder: evaluate its val split (default: the run's own)")
      ->check(CLI::ExistingDirectory);
  app->add_option("--count", o->count, "evaluate the first N images only (0: all)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--batch", o->batch, "images per batch")->check(CLI::Range(1, 4096));
  app->add_option("--threads", o->threads, "OpenMP threads")->check(CLI::Range(1, 1024));
  return {app, [o] { return run_eval(*o); }};
}

}  // namespace pg

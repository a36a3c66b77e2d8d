// `pixelgrad toy`: writes toy images in the VOC folder layout (JPEGImages/, SegmentationClass/,
// ImageSets/Segmentation/{train,val}.txt, class_names.txt), so that the VOC code path — and any
// other tool that reads VOC folders — can be tried without downloading anything.
#include <cstdio>
#include <memory>

#include "core/error.h"
#include "data/toy_dataset.h"
#include "data/voc_dataset.h"
#include "tools/commands.h"

namespace pg {

namespace {

struct ToyCommandOptions {
  std::string out_dir;
  int64_t train = 200;
  int64_t val = 50;
  int size = 64;
  uint64_t seed = 1;
  bool palette = false;
};

int run_toy(const ToyCommandOptions& o) {
  ToyOptions train_options;
  train_options.height = train_options.width = o.size;
  train_options.count = o.train;
  train_options.seed = o.seed;
  ToyOptions val_options = train_options;
  val_options.count = o.val;
  val_options.first_index = o.train;  // the images after the training ones: never the same
  const ToyDataset train(train_options), val(val_options);
  VocWriteOptions write;
  write.palette_labels = o.palette;
  write_voc_dataset(o.out_dir, {{"train", &train}, {"val", &val}}, write);
  std::printf("wrote %lld train + %lld val toy images (%dx%d, %d classes) to %s/ in the VOC layout\n",
              static_cast<long long>(o.train), static_cast<long long>(o.val), o.size, o.size,
              train.num_classes(), o.out_dir.c_str());
  return 0;
}

}  // namespace

Command add_toy_command(CLI::App& parent) {
  auto o = std::make_shared<ToyCommandOptions>();
  CLI::App* app = parent.add_subcommand("toy", "write a toy dataset as a VOC-format folder (for --data)");
  app->add_option("--out", o->out_dir, "folder to write")->required();
  app->add_option("--train", o->train, "training images")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app->add_option("--val", o->val, "validation images")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app->add_option("--size", o->size, "image side")->capture_default_str()->check(CLI::Range(8, 4096));
  app->add_option("--seed", o->seed, "seed of the images")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--palette", o->palette, "labels as VOC palette colours (default: 1-channel index PNGs)");
  return {app, [o] { return run_toy(*o); }};
}

}  // namespace pg

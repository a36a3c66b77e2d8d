// `pixelgrad predict`: runs a checkpoint's net on image files and writes, for each, the predicted
// label map coloured with the VOC palette (<stem>_pred.png) and those colours over the image
// (<stem>_overlay.png).
#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "data/image_io.h"
#include "tools/commands.h"
#include "tools/prediction_images.h"
#include "tools/trainer.h"

namespace pg {

namespace {

struct PredictOptions {
  std::string checkpoint;
  std::vector<std::string> images;
  std::string out_dir = "predictions";
  int threads = 0;
};

int run_predict(const PredictOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  TrainOptions run;
  std::shared_ptr<SegmentationNet> net = load_net_from_checkpoint(o.checkpoint, &run);
  std::filesystem::create_directories(o.out_dir);
  for (const std::string& path : o.images) {
    const Tensor image = image_to_tensor(read_image(path), path);
    const LabelMap predicted = predict_labels(*net, image, run.pad_multiple);
    const std::string stem = o.out_dir + "/" + std::filesystem::path(path).stem().string();
    write_image(stem + "_pred.png", colourise(predicted), ImageFormat::png);
    write_image(stem + "_overlay.png", overlay(image, predicted), ImageFormat::png);
    std::printf("%s → %s_pred.png, %s_overlay.png\n", path.c_str(), stem.c_str(), stem.c_str());
  }
  return 0;
}

}  // namespace

Command add_predict_command(CLI::App& parent) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* app = parent.add_subcommand(
      "predict", "segment image files with a checkpoint: coloured label PNGs and overlays under --out");
  app->add_option("--ckpt", o->checkpoint, "checkpoint written by pixelgrad train")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("images", o->images, "image files (PNG, JPEG)")->required()->check(CLI::ExistingFile);
  app->add_option("--out", o->out_dir, "output folder")->capture_default_str();
  app->add_option("--threads", o->threads, "OpenMP threads")->check(CLI::Range(1, 1024));
  return {app, [o] { return run_predict(*o); }};
}

}  // namespace pg

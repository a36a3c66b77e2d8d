// The training loop behind `pixelgrad train`, kept apart from the command line so tests can run
// it: TrainOptions (everything a run depends on), the datasets it reads, and Trainer, which owns
// the net, the optimizer and the step counter. A run is a pure function of its options: batch
// `step` comes from BatchLoader::batch(step), the lr from lr_at(schedule, step), and a checkpoint
// holds the weights, the optimizer state, the step and every random generator the net owns, so a
// resumed run computes exactly the losses of an uninterrupted one.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/lr_schedule.h"
#include "core/metrics.h"
#include "core/optimizer.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "nets/segmentation_net.h"

namespace pg {

struct TrainOptions {
  std::string arch = "unet-tiny";
  // Data: either the toy generator (toy_train > 0) or a VOC-format folder (data_dir).
  int64_t toy_train = 0;   // training images drawn as toy indices [0, toy_train)
  int64_t toy_val = 200;   // validation images, indices [toy_train, toy_train + toy_val): disjoint
  int toy_size = 64;       // side of the toy images
  uint64_t data_seed = 1;  // of the toy images (kept apart from --seed so val sets stay comparable)
  std::string data_dir;    // VOC layout: ImageSets/Segmentation/{train,val}.txt
  // The run.
  int64_t steps = 1000;
  int batch = 8;
  uint64_t seed = 1;               // weights, shuffling, augmentation
  std::string optimizer = "adam";  // "adam" or "sgd"
  float lr = 3e-3f;
  float momentum = 0.9f;  // SGD
  float weight_decay = 0.0f;
  std::string schedule = "poly";  // poly | step | cosine | constant (over `steps`)
  int64_t warmup = 0;             // linear warm-up iterations
  int augment = -1;               // 1 on, 0 off, -1: off on toy data, on for a VOC folder
  int crop = 0;                   // training crop side; 0: the toy size, or 320 for a VOC folder
  // Evaluation and output.
  int64_t val_every = 0;   // steps between validations; 0: ten per run
  int64_t ckpt_every = 0;  // steps between checkpoints; 0: at every validation
  int64_t eval_size = 0;   // validation images used by the periodic validations; 0: all
  int eval_batch = 16;
  int pad_multiple = 32;  // evaluation pads each image (label with ignore) to a multiple of this
};

// Throws a pg::Error naming the option (and the value) that cannot work.
void validate(const TrainOptions& options);

// The options as checkpoint metadata ("option.<name>" → value) and back.
std::map<std::string, std::string> options_to_metadata(const TrainOptions& options);
TrainOptions options_from_metadata(const std::map<std::string, std::string>& metadata,
                                   const std::string& path);

struct TrainData {
  std::shared_ptr<const Dataset> train;
  std::shared_ptr<const Dataset> val;
};
// The toy datasets or the VOC folder's train and val splits, as the options say.
TrainData make_train_data(const TrainOptions& options);

// Evaluation: images (padded to a multiple of pad_multiple, labels with ignore) through the net in
// eval mode without gradients, one confusion matrix over the first `count` samples (0: all).
ConfusionMatrix evaluate(SegmentationNet& net, const Dataset& dataset, int64_t count, int batch_size,
                         int pad_multiple);

// What `--init` did: which of the net's tensors came from the file, and which did not.
struct InitReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;  // in the net, not (or with another shape) in the file
  std::vector<std::string> unused;   // in the file, not in the net
};

class Trainer {
 public:
  Trainer(TrainOptions options, TrainData data);

  // One optimisation step on batch current_step(); returns its loss and advances the step.
  float train_step();
  int64_t current_step() const { return step_; }
  float current_lr() const;  // the lr of the next step

  // Validation on the first `count` validation images (0: all).
  ConfusionMatrix validate(int64_t count) const;

  // Writes the checkpoint (atomically) / continues from one written with the same options.
  void save_checkpoint(const std::string& path) const;
  void resume(const std::string& path);
  // Copies parameters and buffers by name from another checkpoint (non-strict).
  InitReport init_from(const std::string& path);

  SegmentationNet& net() const { return *net_; }
  const TrainOptions& options() const { return options_; }
  const TrainData& data() const { return data_; }

 private:
  TrainOptions options_;
  TrainData data_;
  std::shared_ptr<SegmentationNet> net_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<BatchLoader> loader_;
  LrSchedule schedule_;
  int64_t step_ = 0;
};

// A checkpoint's net alone (for eval and predict): rebuilt from its metadata, weights loaded,
// in eval mode. `options` receives the run's options.
std::shared_ptr<SegmentationNet> load_net_from_checkpoint(const std::string& path,
                                                          TrainOptions* options = nullptr);

}  // namespace pg

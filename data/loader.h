// Batches for training and evaluation. Training batches are drawn by step number, not by a
// running iterator: batch(step) always returns the same images with the same augmentation, so a
// run resumed at step s sees exactly the batches an uninterrupted run would have seen.
#pragma once
#include <cstdint>
#include <memory>

#include "core/batch.h"
#include "data/dataset.h"

namespace pg {

// Per-channel normalisation applied to RGB in [0, 1]: (v − mean) / std. ImageNet's by default.
struct Normalisation {
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
};

// Training augmentation (ARCHITECTURES.md "Augmentation"): random scale, random crop with the
// image padded by 0 and the label by 255, horizontal flip; labels resampled by nearest neighbour.
struct AugmentOptions {
  bool enabled = true;
  float scale_min = 0.5f;
  float scale_max = 2.0f;
  int crop_h = 0;  // 0: the dataset image's height (every batch must share one size)
  int crop_w = 0;
  bool flip = true;
};

struct LoaderOptions {
  int batch_size = 8;
  uint64_t seed = 1;  // shuffling and augmentation
  bool shuffle = true;
  AugmentOptions augment{};
  Normalisation normalisation{};
};

class BatchLoader {
 public:
  BatchLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  // The batch of training step `step` (≥ 0): samples step·B … step·B + B − 1 of the epochs'
  // concatenated permutations, augmented by an Rng seeded from (seed, step).
  Batch batch(int64_t step) const;
  int64_t steps_per_epoch() const;
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
};

// Samples [begin, end) as one batch, normalised, without augmentation (evaluation, prediction).
// Every sample must have the same size; the error names the first that differs.
Batch make_batch(const Dataset& dataset, int64_t begin, int64_t end, const Normalisation& normalisation = {});

}  // namespace pg

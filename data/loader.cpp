// BatchLoader and make_batch: samples are chosen by position in a stream of per-epoch
// permutations, augmented with an Rng derived from (seed, position), and stacked into a Batch.
// Nothing is remembered between calls, so batch(step) depends on (seed, step) alone, and the
// samples of a batch are drawn and augmented in parallel.
#include "data/loader.h"

#include <algorithm>
#include <exception>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "data/augment.h"
#include "data/derive_seed.h"

namespace pg {

namespace {

// Stacks samples of one size into a Batch: images normalised, labels copied; the multi-task maps
// and ids are filled when the first sample has them (and then every sample must).
Batch collate(const std::vector<Sample>& samples, const Normalisation& normalisation) {
  const Sample& first = samples.front();
  const int64_t n = static_cast<int64_t>(samples.size()), h = first.image.size(1), w = first.image.size(2);
  const int64_t plane = h * w;
  const bool has_parts = first.part.defined(), has_materials = first.material.defined();
  const bool has_scene = first.scene >= 0, has_texture = first.texture >= 0;
  Batch batch;
  Tensor images = Tensor::empty({n, 3, h, w});
  batch.labels = LabelMap({n, h, w});
  if (has_parts) batch.parts = LabelMap({n, h, w});
  if (has_materials) batch.materials = LabelMap({n, h, w});
  if (has_scene) batch.scenes = IntTensor({n});
  if (has_texture) batch.textures = IntTensor({n});
  for (int64_t i = 0; i < n; ++i) {
    const Sample& s = samples[i];
    check(s.image.defined() && s.image.shape() == first.image.shape(), "batch: sample '", s.name,
          "' has image ", s.image.defined() ? shape_str(s.image.shape()) : "undefined", " but sample '",
          first.name, "' has ", shape_str(first.image.shape()),
          ": every image of a batch must have one size (set a crop size)");
    check(s.label.defined() && s.label.shape() == Shape{h, w}, "batch: sample '", s.name,
          "' has no label of its image's size ", h, "x", w);
    std::copy_n(s.image.data(), 3 * plane, images.data() + i * 3 * plane);
    std::copy_n(s.label.data(), plane, batch.labels.data() + i * plane);
    if (has_parts) {
      check(s.part.defined(), "batch: sample '", s.name, "' has no part map but '", first.name, "' has");
      std::copy_n(s.part.data(), plane, batch.parts.data() + i * plane);
    }
    if (has_materials) {
      check(s.material.defined(), "batch: sample '", s.name, "' has no material map but '", first.name,
            "' has");
      std::copy_n(s.material.data(), plane, batch.materials.data() + i * plane);
    }
    if (has_scene) batch.scenes.data()[i] = s.scene;
    if (has_texture) batch.textures.data()[i] = s.texture;
    batch.names.push_back(s.name);
  }
  batch.images = normalise(images, normalisation);
  return batch;
}

// The order of epoch `epoch`: a Fisher–Yates shuffle from an Rng seeded by (seed, epoch).
std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle) return order;
  Rng rng(derive_seed(seed, SeedStream::epoch_permutation, static_cast<uint64_t>(epoch)));
  for (int64_t i = size - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  return order;
}

// Runs work(slot) for slot 0 … count − 1, on the OpenMP threads: drawing a toy sample (or decoding
// a JPEG) costs about as much as a tiny net's step on it, and the samples are independent. An
// exception cannot leave an OpenMP region, so the first one is caught and rethrown after it.
template <typename Work>
void for_each_slot(int64_t count, const Work& work) {
  std::vector<std::exception_ptr> failure(count);
#pragma omp parallel for schedule(dynamic) if (count > 1)
  for (int64_t slot = 0; slot < count; ++slot) {
    try {
      work(slot);
    } catch (...) {
      failure[slot] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : failure)
    if (e) std::rethrow_exception(e);
}

// dataset.get(indices[i]) for every i, in that order.
std::vector<Sample> draw_samples(const Dataset& dataset, const std::vector<int64_t>& indices) {
  std::vector<Sample> samples(indices.size());
  for_each_slot(static_cast<int64_t>(indices.size()), [&](int64_t i) { samples[i] = dataset.get(indices[i]); });
  return samples;
}

}  // namespace

BatchLoader::BatchLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  check(dataset_ != nullptr, "BatchLoader: no dataset");
  check(dataset_->size() > 0, "BatchLoader: the dataset is empty");
  check(options_.batch_size > 0, "BatchLoader: batch_size must be positive, got ", options_.batch_size);
  check(options_.augment.crop_h >= 0 && options_.augment.crop_w >= 0,
        "BatchLoader: crop size must be ≥ 0 (0: the image's), got ", options_.augment.crop_h, "x",
        options_.augment.crop_w);
  check(options_.augment.scale_min > 0.0f && options_.augment.scale_min <= options_.augment.scale_max,
        "BatchLoader: expected 0 < scale_min ≤ scale_max, got ", options_.augment.scale_min, " and ",
        options_.augment.scale_max);
}

int64_t BatchLoader::steps_per_epoch() const {
  return (dataset_->size() + options_.batch_size - 1) / options_.batch_size;
}

Batch BatchLoader::batch(int64_t step) const {
  check(step >= 0, "BatchLoader::batch: step must be ≥ 0, got ", step);
  const int64_t size = dataset_->size(), batch_size = options_.batch_size;
  // Positions step·B … step·B + B − 1 in the concatenation of the epochs' orders; a batch spans at
  // most two epochs when B ≤ size, more when the dataset is smaller than a batch.
  int64_t cached_epoch = -1;
  std::vector<int64_t> order, indices;
  for (int64_t slot = 0; slot < batch_size; ++slot) {
    const int64_t position = step * batch_size + slot;
    const int64_t epoch = position / size;
    if (epoch != cached_epoch)
      order = epoch_order(size, options_.seed, epoch, options_.shuffle), cached_epoch = epoch;
    indices.push_back(order[position % size]);
  }
  std::vector<Sample> samples = draw_samples(*dataset_, indices);
  if (options_.augment.enabled) {
    // crop 0: the size of the batch's first sample (as drawn from the dataset)
    const AugmentOptions& augment = options_.augment;
    const int crop_h = augment.crop_h > 0 ? augment.crop_h : static_cast<int>(samples.front().image.size(1));
    const int crop_w = augment.crop_w > 0 ? augment.crop_w : static_cast<int>(samples.front().image.size(2));
    // Each sample's augmentation has its own Rng, seeded by its position: the slots are independent.
    for_each_slot(batch_size, [&](int64_t slot) {
      const uint64_t position = static_cast<uint64_t>(step * batch_size + slot);
      Rng rng(derive_seed(options_.seed, SeedStream::augmentation, position));
      samples[slot] = augment_sample(samples[slot], augment, crop_h, crop_w, rng);
    });
  }
  return collate(samples, options_.normalisation);
}

Batch make_batch(const Dataset& dataset, int64_t begin, int64_t end, const Normalisation& normalisation) {
  check(0 <= begin && begin < end && end <= dataset.size(), "make_batch: expected 0 ≤ begin < end ≤ ",
        dataset.size(), ", got [", begin, ", ", end, ")");
  std::vector<int64_t> indices(end - begin);
  std::iota(indices.begin(), indices.end(), begin);
  return collate(draw_samples(dataset, indices), normalisation);
}

}  // namespace pg

// The toy "Broden" sources, the step-indexed source schedule, per-head evaluation and the training
// loop of `pixelgrad train-upp` (tools/upp_training.h).
#include "tools/upp_training.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/lr_schedule.h"
#include "core/metrics.h"
#include "data/toy_dataset.h"
#include "nets/registry.h"

namespace pg {

const char* source_name(BrodenSource source) {
  switch (source) {
    case BrodenSource::scene_parsing:
      return "scene_parsing";
    case BrodenSource::surfaces:
      return "surfaces";
    case BrodenSource::textures:
      return "textures";
  }
  return "?";
}

void validate(const UppTrainOptions& o) {
  find_architecture(o.arch);
  check(o.arch.starts_with("upernet-multitask-"),
        "--arch: train-upp trains upernet-multitask-tiny or -full, got '", o.arch, "'");
  check(o.toy_train >= 1 && o.toy_val >= 1, "--toy and --toy-val must be >= 1");
  check(o.toy_size >= 32, "--toy-size: must be >= 32 (UperNet's C5 is 1/32), got ", o.toy_size);
  check(o.steps >= 1, "--steps: must be >= 1, got ", o.steps);
  check(o.texture_steps >= 0 && o.texture_steps < o.steps, "--texture-steps: must be in [0, steps), got ",
        o.texture_steps);
  check(o.batch >= 2, "--batch: must be >= 2 (batch norm on UperNet's 1×1 pyramid bin), got ", o.batch);
  check(std::isfinite(o.lr) && o.lr > 0, "--lr: must be > 0, got ", o.lr);
}

BrodenSource source_at(const UppTrainOptions& o, int64_t step) {
  if (step >= o.steps - o.texture_steps) return BrodenSource::textures;
  return step % 2 == 0 ? BrodenSource::scene_parsing : BrodenSource::surfaces;
}

Batch keep_source_labels(const Batch& batch, BrodenSource source) {
  Batch kept;
  kept.images = batch.images;
  kept.names = batch.names;
  switch (source) {
    case BrodenSource::scene_parsing:
      kept.labels = batch.labels, kept.parts = batch.parts, kept.scenes = batch.scenes;
      break;
    case BrodenSource::surfaces:
      kept.materials = batch.materials;
      break;
    case BrodenSource::textures:
      kept.textures = batch.textures;
      break;
  }
  return kept;
}

namespace {

// Correct image-level predictions: argmax of scores (N, K) against ids (N).
int64_t correct(const Tensor& scores, const IntTensor& ids) {
  const int64_t n = scores.size(0), k = scores.size(1);
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = scores.data() + i * k;
    hits += std::max_element(row, row + k) - row == ids.data()[i];
  }
  return hits;
}

}  // namespace

UppMetrics evaluate_upp(UperNet& net, const Dataset& dataset, int batch_size) {
  const UperNetConfig& c = net.config();
  check(c.num_parts > 0 && c.num_materials > 0 && c.num_scenes > 0 && c.num_textures > 0,
        "evaluate_upp: the net needs every multi-task head");
  ConfusionMatrix objects(c.num_classes), parts(c.num_parts), materials(c.num_materials);
  int64_t scene_hits = 0, texture_hits = 0;
  const bool was_training = net.is_training();
  net.eval();
  NoGradGuard no_grad;
  for (int64_t begin = 0; begin < dataset.size(); begin += batch_size) {
    const Batch b = make_batch(dataset, begin, std::min<int64_t>(dataset.size(), begin + batch_size));
    const UperNetOutputs out = net.forward_all(b.images);
    objects.add_logits(out.object, b.labels);
    parts.add_logits(out.part, part_targets_inside_objects(b.parts, b.labels));
    materials.add_logits(out.material, b.materials);
    scene_hits += correct(out.scene, b.scenes);
    texture_hits += correct(out.texture, b.textures);
  }
  net.train(was_training);
  const double n = static_cast<double>(dataset.size());
  return {.object_miou = objects.mean_iou(),
          .object_pixel_accuracy = objects.pixel_accuracy(),
          .part_miou = parts.mean_iou(),
          .material_miou = materials.mean_iou(),
          .scene_accuracy = scene_hits / n,
          .texture_accuracy = texture_hits / n,
          .images = dataset.size()};
}

UppTrainer::UppTrainer(UppTrainOptions options) : options_(std::move(options)) {
  pg::validate(options_);
  const UppTrainOptions& o = options_;
  auto net = make_net(o.arch, NetOptions{.num_classes = kToyClassCount, .seed = o.seed});
  net_ = std::dynamic_pointer_cast<UperNet>(net);
  check(net_ != nullptr, "train-upp: '", o.arch, "' is not a UperNet");
  const UperNetConfig& c = net_->config();
  check(c.num_scenes == kToySceneCount && c.num_parts == kToyPartCount &&
            c.num_materials == kToyMaterialCount && c.num_textures == kToyTextureCount,
        "train-upp: '", o.arch, "' has heads of ", c.num_scenes, " scenes, ", c.num_parts, " parts, ",
        c.num_materials, " materials, ", c.num_textures, " textures; the toy data has ", kToySceneCount, ", ",
        kToyPartCount, ", ", kToyMaterialCount, ", ", kToyTextureCount, " (use upernet-multitask-tiny)");
  const ToyOptions toy{.height = o.toy_size, .width = o.toy_size, .count = o.toy_train, .seed = o.data_seed};
  for (int s = 0; s < 3; ++s) {
    ToyOptions source = toy;
    source.first_index = s * o.toy_train;  // three disjoint sets of images
    sources_[s] = std::make_shared<ToyDataset>(source);
    LoaderOptions loader{.batch_size = o.batch, .seed = o.seed + static_cast<uint64_t>(s)};
    loader.augment.enabled = false;
    loaders_[s] = std::make_unique<BatchLoader>(sources_[s], loader);
  }
  ToyOptions val = toy;
  val.count = o.toy_val;
  val.first_index = 3 * o.toy_train;
  val_ = std::make_shared<ToyDataset>(val);
  adam_ = std::make_unique<Adam>(net_->parameters(), AdamParams{.lr = o.lr});
  net_->train();
}

float UppTrainer::train_step() {
  const UppTrainOptions& o = options_;
  const BrodenSource source = current_source();
  // Each phase has its own poly decay: the joint phase over steps − texture_steps, the texture one
  // over texture_steps.
  const int64_t joint_steps = o.steps - o.texture_steps;
  const bool texture_phase = step_ >= joint_steps;
  const LrSchedule schedule{
      .policy = LrPolicy::poly, .base_lr = o.lr, .max_iters = texture_phase ? o.texture_steps : joint_steps};
  adam_->set_lr(lr_at(schedule, texture_phase ? step_ - joint_steps : step_));
  // The step-th batch of this source's own stream: sources advance independently.
  const int64_t source_step = source == BrodenSource::textures ? step_ - joint_steps : step_ / 2;
  const Batch batch = keep_source_labels(loaders_[static_cast<int>(source)]->batch(source_step), source);
  adam_->zero_grad();
  Tensor loss = net_->training_loss(batch, {});
  const float value = loss.item();
  check(std::isfinite(value), "train-upp: diverged at step ", step_, " (", source_name(source), "): loss ",
        value);
  loss.backward();
  adam_->step();
  ++step_;
  return value;
}

UppMetrics UppTrainer::validate() const {
  return evaluate_upp(*net_, *val_, 16);
}

}  // namespace pg

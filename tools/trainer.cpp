// The training loop, validation and checkpoints of `pixelgrad train` (tools/trainer.h).
//
// A checkpoint is one safetensors file:
//   model.<name>      every parameter and buffer of the net (its state_dict)
//   optimizer.<name>  the optimizer's state_dict (step count, momentum / Adam moments)
//   metadata          "step", "arch", "num_classes", "option.<name>" for every TrainOptions field,
//                     and "rng.<module path>" for each random generator inside the net (dropout
//                     masks, the patch CNN's pixel sampling), whose state moves with the step.
#include "tools/trainer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include "core/adam.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "core/sgd.h"
#include "data/augment.h"
#include "data/toy_dataset.h"
#include "layers/dropout.h"
#include "nets/patch_cnn.h"
#include "nets/registry.h"

namespace pg {

namespace {

constexpr const char* kFormat = "pixelgrad-checkpoint-1";

LrPolicy parse_policy(const std::string& name) {
  if (name == "poly") return LrPolicy::poly;
  if (name == "step") return LrPolicy::step;
  if (name == "cosine") return LrPolicy::cosine;
  if (name == "constant") return LrPolicy::constant;
  throw Error(str("--schedule: expected poly, step, cosine or constant, got '", name, "'"));
}

LrSchedule make_schedule(const TrainOptions& o) {
  LrSchedule s{.policy = parse_policy(o.schedule), .base_lr = o.lr, .max_iters = o.steps};
  s.step_size = std::max<int64_t>(1, o.steps / 3);  // step: ×0.1 at a third and two thirds
  s.warmup_iters = o.warmup;
  return s;
}

// Every random generator the net owns, by module path: dropout layers and the patch CNN's pixel
// sampler. Their states go into checkpoints so that a resumed run draws the same masks.
void collect_rngs(Module& module, const std::string& path, std::vector<std::pair<std::string, Rng*>>& out) {
  const std::string prefix = path.empty() ? "" : path + ".";
  if (auto* d = dynamic_cast<Dropout*>(&module)) out.emplace_back(prefix + "mask_rng", &d->rng());
  if (auto* d = dynamic_cast<Dropout2d*>(&module)) out.emplace_back(prefix + "mask_rng", &d->rng());
  if (auto* p = dynamic_cast<PatchCnn*>(&module))
    out.emplace_back(prefix + "sampling_rng", &p->sampling_rng());
  for (const auto& [name, child] : module.children()) collect_rngs(*child, prefix + name, out);
}

std::vector<std::pair<std::string, Rng*>> net_rngs(SegmentationNet& net) {
  std::vector<std::pair<std::string, Rng*>> rngs;
  collect_rngs(net, "", rngs);
  return rngs;
}

NamedTensors with_prefix(const NamedTensors& tensors, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
  return out;
}

// The file's tensors whose names start with prefix, the prefix removed.
NamedTensors strip_prefix(const NamedTensors& tensors, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, t] : tensors)
    if (name.starts_with(prefix)) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

const std::string& metadata_value(const std::map<std::string, std::string>& metadata, const std::string& key,
                                  const std::string& path) {
  auto it = metadata.find(key);
  check(it != metadata.end(), path, ": not a pixelgrad checkpoint (no '", key, "' in its metadata)");
  return it->second;
}

SafetensorsContents load_checkpoint_file(const std::string& path) {
  SafetensorsContents file = load_safetensors(path);
  auto it = file.metadata.find("format");
  check(it != file.metadata.end() && it->second == kFormat, path,
        ": not a pixelgrad training checkpoint (metadata 'format' is not '", kFormat, "')");
  return file;
}

// The checkpoint's "model." tensors under the net's own names.
SafetensorsContents model_tensors(const SafetensorsContents& file) {
  SafetensorsContents model;
  model.tensors = strip_prefix(file.tensors, "model.");
  model.path = file.path;
  return model;
}

std::shared_ptr<SegmentationNet> build_net(const TrainOptions& options, int num_classes) {
  return make_net(options.arch, NetOptions{.num_classes = num_classes, .seed = options.seed});
}

std::unique_ptr<Optimizer> build_optimizer(const TrainOptions& o, SegmentationNet& net) {
  if (o.optimizer == "adam")
    return std::make_unique<Adam>(net.parameter_groups(),
                                  AdamParams{.lr = o.lr, .weight_decay = o.weight_decay});
  if (o.optimizer == "sgd")
    return std::make_unique<Sgd>(
        net.parameter_groups(),
        SgdParams{.lr = o.lr, .momentum = o.momentum, .weight_decay = o.weight_decay});
  throw Error(str("--optimizer: expected adam or sgd, got '", o.optimizer, "'"));
}

// Sample padded at the bottom and right to multiples of `multiple` (image 0, label ignore).
Sample pad_sample(const Sample& s, int multiple) {
  const int h = static_cast<int>(s.image.size(1)), w = static_cast<int>(s.image.size(2));
  const int ph = multiple > 1 ? (h + multiple - 1) / multiple * multiple : h;
  const int pw = multiple > 1 ? (w + multiple - 1) / multiple * multiple : w;
  return ph == h && pw == w ? s : crop_sample(s, 0, 0, ph, pw);
}

// Images (normalised) and labels of samples that share one size.
Batch stack(const std::vector<Sample>& samples) {
  const int64_t n = static_cast<int64_t>(samples.size());
  const int64_t h = samples[0].image.size(1), w = samples[0].image.size(2), plane = h * w;
  Tensor images = Tensor::empty({n, 3, h, w});
  Batch batch;
  batch.labels = LabelMap({n, h, w});
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(samples[i].image.data(), 3 * plane, images.data() + i * 3 * plane);
    std::copy_n(samples[i].label.data(), plane, batch.labels.data() + i * plane);
    batch.names.push_back(samples[i].name);
  }
  batch.images = normalise(images, Normalisation{});
  return batch;
}

// Option fields as text, in one table used for both directions.
struct OptionField {
  const char* name;
  std::function<std::string(const TrainOptions&)> get;
  std::function<void(TrainOptions&, const std::string&)> set;
};

template <typename T>
OptionField field(const char* name, T TrainOptions::*member) {
  return {name,
          [member](const TrainOptions& o) {
            std::ostringstream out;
            out.precision(9);  // floats round-trip exactly
            out << o.*member;
            return out.str();
          },
          [member](TrainOptions& o, const std::string& text) {
            std::istringstream in(text);
            if constexpr (std::is_same_v<T, std::string>) {
              o.*member = text;
            } else {
              in >> o.*member;
              check(!in.fail(), "cannot read '", text, "'");
            }
          }};
}

const std::vector<OptionField>& option_fields() {
  static const std::vector<OptionField> fields = {
      field("arch", &TrainOptions::arch),
      field("toy_train", &TrainOptions::toy_train),
      field("toy_val", &TrainOptions::toy_val),
      field("toy_size", &TrainOptions::toy_size),
      field("data_seed", &TrainOptions::data_seed),
      field("data_dir", &TrainOptions::data_dir),
      field("steps", &TrainOptions::steps),
      field("batch", &TrainOptions::batch),
      field("seed", &TrainOptions::seed),
      field("optimizer", &TrainOptions::optimizer),
      field("lr", &TrainOptions::lr),
      field("momentum", &TrainOptions::momentum),
      field("weight_decay", &TrainOptions::weight_decay),
      field("schedule", &TrainOptions::schedule),
      field("warmup", &TrainOptions::warmup),
      field("augment", &TrainOptions::augment),
      field("crop", &TrainOptions::crop),
      field("val_every", &TrainOptions::val_every),
      field("ckpt_every", &TrainOptions::ckpt_every),
      field("eval_size", &TrainOptions::eval_size),
      field("eval_batch", &TrainOptions::eval_batch),
      field("pad_multiple", &TrainOptions::pad_multiple),
  };
  return fields;
}

}  // namespace

void validate(const TrainOptions& o) {
  find_architecture(o.arch);  // unknown names: the error lists the valid ones
  check(o.toy_train > 0 || !o.data_dir.empty(), "no training data: give --toy N or --data DIR");
  check(o.toy_train == 0 || o.data_dir.empty(), "give either --toy N or --data DIR, not both");
  check(o.toy_train >= 0, "--toy: must be >= 1, got ", o.toy_train);
  check(o.data_dir.empty() ? o.toy_val >= 1 : true, "--toy-val: must be >= 1, got ", o.toy_val);
  check(o.toy_size >= 8, "--toy-size: must be >= 8, got ", o.toy_size);
  check(o.steps >= 1, "--steps: must be >= 1, got ", o.steps);
  check(o.batch >= 1, "--batch: must be >= 1, got ", o.batch);
  check(o.optimizer == "adam" || o.optimizer == "sgd", "--optimizer: expected adam or sgd, got '",
        o.optimizer, "'");
  check(std::isfinite(o.lr) && o.lr > 0, "--lr: must be > 0, got ", o.lr);
  check(o.momentum >= 0 && o.momentum < 1, "--momentum: must be in [0, 1), got ", o.momentum);
  check(o.weight_decay >= 0, "--weight-decay: must be >= 0, got ", o.weight_decay);
  parse_policy(o.schedule);
  check(o.warmup >= 0 && o.warmup < o.steps, "--warmup: must be in [0, steps), got ", o.warmup);
  check(o.augment >= -1 && o.augment <= 1, "augment: expected -1, 0 or 1, got ", o.augment);
  check(o.crop >= 0, "--crop: must be >= 0, got ", o.crop);
  check(o.val_every >= 0 && o.ckpt_every >= 0 && o.eval_size >= 0,
        "--val-every, --ckpt-every and --eval-size must be >= 0");
  check(o.eval_batch >= 1, "--eval-batch: must be >= 1, got ", o.eval_batch);
  check(o.pad_multiple >= 1, "pad multiple: must be >= 1, got ", o.pad_multiple);
}

std::map<std::string, std::string> options_to_metadata(const TrainOptions& options) {
  std::map<std::string, std::string> metadata;
  for (const OptionField& f : option_fields()) metadata[std::string("option.") + f.name] = f.get(options);
  return metadata;
}

TrainOptions options_from_metadata(const std::map<std::string, std::string>& metadata,
                                   const std::string& path) {
  TrainOptions options;
  for (const OptionField& f : option_fields()) {
    const std::string key = std::string("option.") + f.name;
    const std::string& text = metadata_value(metadata, key, path);
    try {
      f.set(options, text);
    } catch (const Error& e) {
      throw Error(str(path, ": metadata '", key, "': ", e.what()));
    }
  }
  return options;
}

TrainData make_train_data(const TrainOptions& o) {
  if (!o.data_dir.empty())
    throw Error("--data: the VOC-format reader is not on this branch yet; use --toy N");
  ToyOptions train{.height = o.toy_size, .width = o.toy_size, .count = o.toy_train, .seed = o.data_seed};
  ToyOptions val = train;
  val.count = o.toy_val;
  val.first_index = o.toy_train;  // indices after the training images: never the same image
  return {std::make_shared<ToyDataset>(train), std::make_shared<ToyDataset>(val)};
}

ConfusionMatrix evaluate(SegmentationNet& net, const Dataset& dataset, int64_t count, int batch_size,
                         int pad_multiple) {
  const int64_t n = count > 0 ? std::min(count, dataset.size()) : dataset.size();
  ConfusionMatrix confusion(net.num_classes());
  const bool was_training = net.is_training();
  net.eval();
  NoGradGuard no_grad;
  std::vector<Sample> pending;  // consecutive samples of one (padded) size
  auto flush = [&] {
    if (pending.empty()) return;
    Batch batch = stack(pending);
    confusion.add_logits(net.forward(batch.images), batch.labels);
    pending.clear();
  };
  for (int64_t i = 0; i < n; ++i) {
    Sample s = pad_sample(dataset.get(i), pad_multiple);
    if (!pending.empty() &&
        (s.image.shape() != pending[0].image.shape() || static_cast<int>(pending.size()) == batch_size))
      flush();
    pending.push_back(std::move(s));
  }
  flush();
  net.train(was_training);
  return confusion;
}

Trainer::Trainer(TrainOptions options, TrainData data)
    : options_(std::move(options)), data_(std::move(data)) {
  pg::validate(options_);
  net_ = build_net(options_, data_.train->num_classes());
  optimizer_ = build_optimizer(options_, *net_);
  const bool toy = options_.data_dir.empty();
  const bool augment = options_.augment == -1 ? !toy : options_.augment == 1;
  const int crop = options_.crop > 0 ? options_.crop : (toy ? options_.toy_size : 320);
  LoaderOptions loader{.batch_size = options_.batch, .seed = options_.seed};
  loader.augment.enabled = augment;
  loader.augment.crop_h = loader.augment.crop_w = augment ? crop : 0;
  loader_ = std::make_unique<BatchLoader>(data_.train, loader);
  schedule_ = make_schedule(options_);
  net_->train();
}

float Trainer::current_lr() const {
  return lr_at(schedule_, step_);
}

float Trainer::train_step() {
  const Batch batch = loader_->batch(step_);
  optimizer_->set_lr(lr_at(schedule_, step_));
  optimizer_->zero_grad();
  Tensor loss = net_->training_loss(batch, CrossEntropyParams{});
  const float value = loss.item();
  check(std::isfinite(value), "training diverged at step ", step_, ": the loss is ", value,
        " (try a smaller --lr)");
  loss.backward();
  optimizer_->step();
  ++step_;
  return value;
}

ConfusionMatrix Trainer::validate(int64_t count) const {
  return evaluate(*net_, *data_.val, count, options_.eval_batch, options_.pad_multiple);
}

void Trainer::save_checkpoint(const std::string& path) const {
  NamedTensors tensors = with_prefix(net_->state_dict(), "model.");
  for (auto& entry : with_prefix(optimizer_->state_dict(), "optimizer.")) tensors.push_back(entry);
  std::map<std::string, std::string> metadata = options_to_metadata(options_);
  metadata["format"] = kFormat;
  metadata["step"] = std::to_string(step_);
  metadata["arch"] = options_.arch;
  metadata["num_classes"] = std::to_string(net_->num_classes());
  for (const auto& [name, rng] : net_rngs(*net_)) metadata["rng." + name] = std::to_string(rng->state());
  save_safetensors(path, tensors, metadata);
}

void Trainer::resume(const std::string& path) {
  const SafetensorsContents file = load_checkpoint_file(path);
  const TrainOptions saved = options_from_metadata(file.metadata, path);
  for (const OptionField& f : option_fields()) {
    const std::string name = f.name;
    if (name == "val_every" || name == "ckpt_every" || name == "eval_size" || name == "eval_batch") continue;
    check(f.get(saved) == f.get(options_), path, ": the checkpoint was trained with ", name, " = ",
          f.get(saved), ", this run has ", f.get(options_),
          " (a resumed run must keep the settings of the run it continues)");
  }
  load_named_tensors(net_->state_dict(), model_tensors(file));
  optimizer_->load_state_dict(strip_prefix(file.tensors, "optimizer."));
  for (const auto& [name, rng] : net_rngs(*net_)) {
    const std::string& text = metadata_value(file.metadata, "rng." + name, path);
    rng->set_state(std::stoull(text));
  }
  step_ = std::stoll(metadata_value(file.metadata, "step", path));
  check(step_ >= 0 && step_ <= options_.steps, path, ": step ", step_, " is outside [0, ", options_.steps,
        "]");
}

InitReport Trainer::init_from(const std::string& path) {
  const SafetensorsContents file = load_safetensors(path);
  // A training checkpoint holds the net under "model."; a plain weights file holds it bare.
  NamedTensors source = strip_prefix(file.tensors, "model.");
  if (source.empty()) source = file.tensors;
  std::map<std::string, Tensor> by_name(source.begin(), source.end());
  InitReport report;
  NamedTensors destination = net_->state_dict();
  for (const auto& [name, t] : destination) {
    auto it = by_name.find(name);
    if (it == by_name.end() || it->second.shape() != t.shape()) {
      report.missing.push_back(name);
      continue;
    }
    std::copy_n(it->second.data(), t.numel(), t.data());
    report.loaded.push_back(name);
    by_name.erase(it);
  }
  for (const auto& [name, t] : by_name) report.unused.push_back(name);
  return report;
}

std::shared_ptr<SegmentationNet> load_net_from_checkpoint(const std::string& path, TrainOptions* options) {
  const SafetensorsContents file = load_checkpoint_file(path);
  const TrainOptions saved = options_from_metadata(file.metadata, path);
  const int num_classes = std::stoi(metadata_value(file.metadata, "num_classes", path));
  std::shared_ptr<SegmentationNet> net = build_net(saved, num_classes);
  load_named_tensors(net->state_dict(), model_tensors(file));
  net->eval();
  if (options) *options = saved;
  return net;
}

}  // namespace pg

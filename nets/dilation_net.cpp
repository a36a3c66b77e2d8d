// The dilation network (Yu & Koltun 2016): front-end → context module → fixed bilinear ×8.
#include "nets/dilation_net.h"

#include <algorithm>

#include "core/init.h"
#include "core/ops/conv_transpose2d.h"

namespace pg {

DilationNetConfig DilationNetConfig::full(int num_classes, bool with_context) {
  return {.frontend = DilationFrontendConfig::full(num_classes),
          .context = ContextModuleConfig::basic(num_classes),
          .with_context = with_context};
}

DilationNetConfig DilationNetConfig::tiny(int num_classes, bool with_context) {
  return {.frontend = DilationFrontendConfig::tiny(num_classes),
          .context = ContextModuleConfig::tiny(num_classes),
          .with_context = with_context};
}

FixedBilinearUpsampling::FixedBilinearUpsampling(int64_t channels, int factor) : factor_(factor) {
  check(channels >= 1 && factor >= 1, "FixedBilinearUpsampling: channels and factor must be ≥ 1, got ",
        channels, " and ", factor);
  const int64_t k = 2 * factor;
  Tensor filter = Tensor::empty({1, 1, k, k});
  init::bilinear_upsample(filter);
  weight_ = register_buffer("weight", Tensor::empty({channels, 1, k, k}));
  for (int64_t c = 0; c < channels; ++c)
    std::copy(filter.data(), filter.data() + k * k, weight_.data() + c * k * k);
}

Tensor FixedBilinearUpsampling::forward(const Tensor& x) {
  // x: (N, C, H, W) → (N, C, (H − 1)·f − 2·(f/2) + 2f = f·H, f·W)
  check(x.defined() && x.dim() == 4 && x.size(1) == weight_.size(0), "FixedBilinearUpsampling: expected (N, ",
        weight_.size(0), ", H, W), got ", x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  return conv_transpose2d(
      x, weight_, Tensor(),
      ConvTranspose2dParams{
          .stride = factor_, .pad = factor_ / 2, .groups = static_cast<int>(weight_.size(0))});
}

DilationNet::DilationNet(const DilationNetConfig& config, Rng& rng) : config_(config) {
  const int classes = config.frontend.num_classes;
  check(!config.with_context || config.context.channels == classes, "dilation net: the context module has ",
        config.context.channels, " channels, the front-end predicts ", classes,
        " classes; they must be equal");
  frontend_ = register_module("frontend", std::make_shared<DilationFrontend>(config.frontend, rng));
  if (config.with_context)
    context_ = register_module("context", std::make_shared<ContextModule>(config.context, rng));
  upsample_ = register_module("upsample", std::make_shared<FixedBilinearUpsampling>(classes, 8));
}

Tensor DilationNet::forward(const Tensor& images) {
  Tensor scores = frontend_->forward(images);        // (N, C, H/8, W/8)
  if (context_) scores = context_->forward(scores);  // (N, C, H/8, W/8)
  return upsample_->forward(scores);                 // (N, C, H, W)
}

Tensor DilationNet::context_loss(const Tensor& scores, const LabelMap& labels,
                                 const CrossEntropyParams& loss) {
  check(context_ != nullptr,
        "dilation net: context_loss needs the context module (this net is the front-end only)");
  return cross_entropy(upsample_->forward(context_->forward(scores)), labels, loss);
}

void DilationNet::freeze_frontend() {
  for (Tensor p : frontend_->parameters()) p.set_requires_grad(false);
}

ContextModule& DilationNet::context() {
  check(context_ != nullptr, "dilation net: this net is the front-end only, it has no context module");
  return *context_;
}

std::shared_ptr<DilationNet> make_dilation_net(const DilationNetConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<DilationNet>(config, rng);
}

}  // namespace pg

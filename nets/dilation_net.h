// The dilation network of Yu & Koltun ("Multi-Scale Context Aggregation by Dilated Convolutions",
// ICLR 2016): the front-end (nets/dilation_frontend.h: VGG-16 at output stride 8 with dilated
// conv5 and fc6) predicts class scores at 1/8 of the image, the context module
// (nets/context_module.h: 3×3 convs dilated 1, 1, 2, 4, 8, 16) aggregates multi-scale context on
// them, and a fixed bilinear deconvolution brings the scores back to the image's size.
// The paper trains the front-end first, then the context module alone on the front-end's cached
// outputs (nets/dilation_cache.h; context_loss below), then optionally both jointly.
// Without the context module (with_context = false) it is the paper's "front end" baseline.
#pragma once
#include <memory>

#include "core/rng.h"
#include "layers/module.h"
#include "nets/context_module.h"
#include "nets/dilation_frontend.h"
#include "nets/segmentation_net.h"

namespace pg {

struct DilationNetConfig {
  DilationFrontendConfig frontend;
  ContextModuleConfig context;  // channels = frontend.num_classes
  bool with_context = true;

  // The paper's Pascal VOC net: full front-end and basic context module (1, 1, 2, 4, 8, 16).
  static DilationNetConfig full(int num_classes, bool with_context = true);
  // Toy width: front-end at output stride 8 (an 8×8 map on 64 px), context dilations 1, 1, 2, 4.
  static DilationNetConfig tiny(int num_classes, bool with_context = true);
};

// Bilinear upsampling by 8 as the reference's deconvolution: kernel 16, stride 8, pad 4, one
// filter per channel (groups = C), no bias, never learned (lr_mult 0). The filter is a buffer,
// not a parameter, so no optimizer ever sees it. Away from the outer 4 rows and columns the
// output equals resize_bilinear with align_corners = false.
class FixedBilinearUpsampling : public Module {
 public:
  FixedBilinearUpsampling(int64_t channels, int factor);
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) → (N, C, factor·H, factor·W)
  int factor() const { return factor_; }

 private:
  int factor_;
  Tensor weight_;  // (C, 1, 2·factor, 2·factor)
};

class DilationNet : public SegmentationNet {
 public:
  DilationNet(const DilationNetConfig& config, Rng& rng);

  // images: (N, 3, H, W), H and W divisible by 8 → logits (N, C, H, W)
  Tensor forward(const Tensor& images) override;
  int num_classes() const override { return config_.frontend.num_classes; }

  // The loss of the context module alone on the front-end's cached output: cross-entropy of
  // upsample(context(scores)) against the image's labels. Equals training_loss with the front-end
  // frozen (in eval mode, no gradient), without running it. scores: (N, C, H/8, W/8), labels (N, H, W).
  Tensor context_loss(const Tensor& scores, const LabelMap& labels, const CrossEntropyParams& loss = {});

  // Stops the front-end learning (requires_grad off on its parameters) for the context stage.
  void freeze_frontend();

  const DilationNetConfig& config() const { return config_; }
  DilationFrontend& frontend() { return *frontend_; }
  ContextModule& context();  // an error without the context module

 private:
  DilationNetConfig config_;
  std::shared_ptr<DilationFrontend> frontend_;
  std::shared_ptr<ContextModule> context_;  // null without the context module
  std::shared_ptr<FixedBilinearUpsampling> upsample_;
};

std::shared_ptr<DilationNet> make_dilation_net(const DilationNetConfig& config, uint64_t seed);

}  // namespace pg

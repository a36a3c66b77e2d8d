// ResNet backbone: the stem (7×7/2 conv, BN, ReLU, 3×3/2 max pool) and four stages of
// bottlenecks whose strides and dilations come from dilate_for_output_stride.
#include "nets/backbones/resnet.h"

#include "core/init.h"

namespace pg {

namespace {
constexpr int kStemStride = 4;  // conv1 stride 2 · max pool stride 2
const std::vector<int> kStageStrides = {1, 2, 2, 2};
}  // namespace

ResNetConfig ResNetConfig::resnet50(int output_stride) {
  return {.blocks = {3, 4, 6, 3},
          .widths = {64, 128, 256, 512},
          .stem_channels = 64,
          .output_stride = output_stride,
          .multi_grid = {}};
}

ResNetConfig ResNetConfig::resnet101(int output_stride) {
  return {.blocks = {3, 4, 23, 3},
          .widths = {64, 128, 256, 512},
          .stem_channels = 64,
          .output_stride = output_stride,
          .multi_grid = {}};
}

ResNetConfig ResNetConfig::tiny(int output_stride) {
  return {.blocks = {2, 2, 2, 2},
          .widths = {8, 16, 32, 64},
          .stem_channels = 8,
          .output_stride = output_stride,
          .multi_grid = {}};
}

ResNet::ResNet(const ResNetConfig& config, Rng& rng) : config_(config) {
  const ResNetConfig& c = config_;
  check(c.blocks.size() == 4 && c.widths.size() == 4,
        "ResNet: blocks and widths need one entry per stage (4), got ", c.blocks.size(), " and ",
        c.widths.size());
  for (int s = 0; s < 4; ++s)
    check(c.blocks[s] >= 1 && c.widths[s] >= 1, "ResNet: layer", s + 1, " needs ≥ 1 unit of width ≥ 1, got ",
          c.blocks[s], " units of width ", c.widths[s]);
  check(c.stem_channels >= 1, "ResNet: stem_channels must be ≥ 1, got ", c.stem_channels);
  check(c.output_stride == 4 || c.output_stride == 8 || c.output_stride == 16 || c.output_stride == 32,
        "ResNet: output_stride must be 4, 8, 16 or 32, got ", c.output_stride);
  check(c.multi_grid.empty() || static_cast<int>(c.multi_grid.size()) == c.blocks[3],
        "ResNet: multi_grid needs one factor per layer4 unit (", c.blocks[3], "), got ", c.multi_grid.size());
  for (int m : c.multi_grid) check(m >= 1, "ResNet: multi_grid factors must be ≥ 1, got ", m);
  geometry_ = dilate_for_output_stride(kStageStrides, kStemStride, c.output_stride);

  conv1_ = register_module("conv1", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 3,
                                                                           .out_channels = c.stem_channels,
                                                                           .kernel = 7,
                                                                           .stride = 2,
                                                                           .pad = 3,
                                                                           .bias = false},
                                                             rng));
  init::kaiming_normal(conv1_->weight(), rng, init::FanMode::fan_out);
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(c.stem_channels));
  maxpool_ = std::make_shared<MaxPool2d>(Pool2dParams{.kernel = 3, .stride = 2, .pad = 1});
  int64_t channels = c.stem_channels;
  for (int s = 0; s < 4; ++s)
    layers_.push_back(register_module("layer" + std::to_string(s + 1), make_stage(s, channels, rng)));
}

// Stage s (0-based): unit 0 takes the stride (and the shortcut conv), later units keep the size.
std::shared_ptr<Sequential> ResNet::make_stage(int s, int64_t& in_channels, Rng& rng) {
  const StageGeometry& g = geometry_[s];
  std::vector<int> dilations;
  for (int u = 0; u < config_.blocks[s]; ++u) {
    if (s == 3 && !config_.multi_grid.empty())
      dilations.push_back(g.dilation * config_.multi_grid[u]);
    else
      dilations.push_back(u == 0 ? g.first_dilation : g.dilation);
  }
  auto stage = std::make_shared<Sequential>();
  for (int u = 0; u < config_.blocks[s]; ++u) {
    auto unit = stage->add(std::make_shared<Bottleneck>(BottleneckOptions{.in_channels = in_channels,
                                                                          .width = config_.widths[s],
                                                                          .stride = u == 0 ? g.stride : 1,
                                                                          .dilation = dilations[u]},
                                                        rng));
    in_channels = unit->out_channels();
    units_.push_back(unit);
  }
  unit_dilations_.push_back(dilations);
  return stage;
}

int64_t ResNet::out_channels(int stage) const {
  check(stage >= 0 && stage <= 4, "ResNet::out_channels: stage must be 0 (stem) … 4 (layer4), got ", stage);
  return stage == 0 ? config_.stem_channels : kBottleneckExpansion * config_.widths[stage - 1];
}

std::vector<int> ResNet::unit_dilations(int stage) const {
  check(stage >= 1 && stage <= 4, "ResNet::unit_dilations: stage must be 1 … 4, got ", stage);
  return unit_dilations_[stage - 1];
}

void ResNet::freeze_batch_norm(bool freeze_affine) {
  bn1_->freeze(freeze_affine);
  for (const auto& unit : units_)
    for (const auto& bn : unit->batch_norms()) bn->freeze(freeze_affine);
}

ResNetFeatures ResNet::features(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "ResNet: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  ResNetFeatures f;
  f.stem = bn1_->forward_relu(conv1_->forward(images));       // (N, stem, H/2, W/2)
  f.layer1 = layers_[0]->forward(maxpool_->forward(f.stem));  // (N, 4·w0, H/4, W/4)
  f.layer2 = layers_[1]->forward(f.layer1);
  f.layer3 = layers_[2]->forward(f.layer2);
  f.layer4 = layers_[3]->forward(f.layer3);
  return f;
}

Tensor ResNet::forward(const Tensor& images) {
  return features(images).layer4;
}

}  // namespace pg

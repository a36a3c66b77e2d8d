// Aligned Xception: the unit (three separable convs + shortcut), the three flows, and the
// output-stride rewrite (TF's stack_blocks_dense, through dilate_for_output_stride).
#include "nets/backbones/xception.h"

#include <string>

#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "nets/backbones/output_stride.h"

namespace pg {

namespace {
constexpr int kStemStride = 2;  // entry_flow.conv1_1
constexpr int kKernel = 3;      // every depthwise conv and both stem convs
}  // namespace

Padding fixed_padding(int kernel, int dilation) {
  check(kernel >= 1 && dilation >= 1, "fixed_padding: kernel and dilation must be ≥ 1, got ", kernel, " and ",
        dilation);
  const int effective = kernel + (kernel - 1) * (dilation - 1);
  const int total = effective - 1;
  return {.begin = total / 2, .end = total - total / 2};
}

XceptionUnit::XceptionUnit(const XceptionUnitOptions& options, Rng& rng) : options_(options) {
  const XceptionUnitOptions& o = options_;
  check(o.in_channels > 0 && o.depths[0] > 0 && o.depths[1] > 0 && o.depths[2] > 0,
        "XceptionUnit: channels must be positive, got in ", o.in_channels, " and depths ", o.depths[0], ", ",
        o.depths[1], ", ", o.depths[2]);
  check(o.stride >= 1 && o.dilation >= 1, "XceptionUnit: stride and dilation must be ≥ 1, got ", o.stride,
        " and ", o.dilation);
  check(o.shortcut != XceptionShortcut::identity || (o.stride == 1 && o.in_channels == o.depths[2]),
        "XceptionUnit: an identity shortcut needs stride 1 and depths[2] = in_channels (", o.in_channels,
        "), got stride ", o.stride, " and ", o.depths[2]);
  const Padding pad = fixed_padding(kKernel, o.dilation);
  int64_t channels = o.in_channels;
  for (int i = 0; i < 3; ++i) {
    sepconvs_[i] = register_module(
        "sepconv" + std::to_string(i + 1),
        std::make_shared<SeparableConv2d>(SeparableConv2dOptions{.in_channels = channels,
                                                                 .out_channels = o.depths[i],
                                                                 .kernel = kKernel,
                                                                 .stride = i == 2 ? o.stride : 1,
                                                                 .pad = pad.begin,
                                                                 .dilation = o.dilation,
                                                                 .pad_end_extra = pad.end - pad.begin,
                                                                 .batch_norm_relu = true,
                                                                 .relu = o.relu_inside,
                                                                 .bn = o.bn},
                                          rng));
    channels = o.depths[i];
  }
  if (o.shortcut == XceptionShortcut::conv) {
    shortcut_ =
        register_module("shortcut", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.in_channels,
                                                                           .out_channels = o.depths[2],
                                                                           .kernel = 1,
                                                                           .stride = o.stride,
                                                                           .bias = false},
                                                             rng));
    shortcut_bn_ = register_module("shortcut_bn", std::make_shared<BatchNorm2d>(o.depths[2], o.bn));
  }
}

XceptionUnitOutputs XceptionUnit::forward_features(const Tensor& x) {
  // x: (N, C, H, W). Without relu_inside each separable conv opens with a ReLU (TF's "original
  // network design"); the shortcut takes x before any ReLU.
  auto sepconv = [&](int i, const Tensor& in) {
    return sepconvs_[i]->forward(options_.relu_inside ? in : relu(in));
  };
  XceptionUnitOutputs out;
  Tensor y = sepconv(0, x);                    // (N, depths[0], H, W)
  out.sepconv2 = sepconv(1, y);                // (N, depths[1], H, W)
  Tensor residual = sepconv(2, out.sepconv2);  // (N, depths[2], H/stride, W/stride)
  switch (options_.shortcut) {
    case XceptionShortcut::conv:
      out.out = add(residual, shortcut_bn_->forward(shortcut_->forward(x)));
      break;
    case XceptionShortcut::identity:
      out.out = add(residual, x);
      break;
    case XceptionShortcut::none:
      out.out = residual;
      break;
  }
  return out;
}

Tensor XceptionUnit::forward(const Tensor& x) {
  return forward_features(x).out;
}

XceptionConfig XceptionConfig::xception65(int output_stride) {
  XceptionConfig c;
  c.output_stride = output_stride;
  return c;
}

XceptionConfig XceptionConfig::tiny(int output_stride) {
  return {.conv1_1_channels = 8,
          .conv1_2_channels = 16,
          .entry_blocks = {16, 32, 64},
          .middle_units = 4,
          .exit_block1 = {64, 128, 128},
          .exit_block2 = {192, 192, 256},
          .output_stride = output_stride,
          .bn = {.momentum = 0.1f, .eps = 1e-3f}};
}

Xception::Xception(const XceptionConfig& config, Rng& rng) : config_(config) {
  const XceptionConfig& c = config_;
  check(c.conv1_1_channels >= 1 && c.conv1_2_channels >= 1, "Xception: entry conv channels must be ≥ 1, got ",
        c.conv1_1_channels, " and ", c.conv1_2_channels);
  check(c.middle_units >= 1, "Xception: middle_units must be ≥ 1, got ", c.middle_units);
  check(c.output_stride == 4 || c.output_stride == 8 || c.output_stride == 16 || c.output_stride == 32,
        "Xception: output_stride must be 4, 8, 16 or 32, got ", c.output_stride);

  // Unit strides: entry blocks 1–3, the middle units, exit blocks 1–2. Once the map has reached
  // the output stride, a unit runs at stride 1 at the current rate (its own taps still fall on
  // its input's pixels) and the rate multiplies by the stride it gave up for every later unit:
  // TF's stack_blocks_dense, i.e. each unit's rate is its stage's first_dilation.
  std::vector<int> unit_strides = {2, 2, 2};
  unit_strides.insert(unit_strides.end(), c.middle_units, 1);
  unit_strides.insert(unit_strides.end(), {2, 1});
  const std::vector<StageGeometry> geometry =
      dilate_for_output_stride(unit_strides, kStemStride, c.output_stride);

  entry_flow_ = register_module("entry_flow", std::make_shared<XceptionFlow>());
  middle_flow_ = register_module("middle_flow", std::make_shared<XceptionFlow>());
  exit_flow_ = register_module("exit_flow", std::make_shared<XceptionFlow>());

  const Padding stem_pad = fixed_padding(kKernel, 1);  // 1 and 1: the stride-2 conv1_1 stays aligned
  auto stem_conv = [&](int64_t in, int64_t out, int stride) {
    return std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in,
                                                  .out_channels = out,
                                                  .kernel = kKernel,
                                                  .stride = stride,
                                                  .pad = stem_pad.begin,
                                                  .bias = false,
                                                  .pad_end_extra = stem_pad.end - stem_pad.begin},
                                    rng);
  };
  conv1_1_ = entry_flow_->add("conv1_1", stem_conv(3, c.conv1_1_channels, kStemStride));
  conv1_1_bn_ = entry_flow_->add("conv1_1_bn", std::make_shared<BatchNorm2d>(c.conv1_1_channels, c.bn));
  conv1_2_ = entry_flow_->add("conv1_2", stem_conv(c.conv1_1_channels, c.conv1_2_channels, 1));
  conv1_2_bn_ = entry_flow_->add("conv1_2_bn", std::make_shared<BatchNorm2d>(c.conv1_2_channels, c.bn));

  int64_t channels = c.conv1_2_channels;
  auto make_unit = [&](XceptionFlow& flow, const std::string& name, std::array<int64_t, 3> depths,
                       XceptionShortcut shortcut, bool relu_inside) {
    const StageGeometry& g = geometry[units_.size()];
    auto unit =
        flow.add(name, std::make_shared<XceptionUnit>(XceptionUnitOptions{.in_channels = channels,
                                                                          .depths = depths,
                                                                          .stride = g.stride,
                                                                          .dilation = g.first_dilation,
                                                                          .shortcut = shortcut,
                                                                          .relu_inside = relu_inside,
                                                                          .bn = c.bn},
                                                      rng));
    units_.push_back(unit);
    channels = depths[2];
  };
  for (int b = 0; b < 3; ++b) {
    const int64_t width = c.entry_blocks[b];
    make_unit(*entry_flow_, "block" + std::to_string(b + 1), {width, width, width}, XceptionShortcut::conv,
              false);
  }
  for (int m = 0; m < c.middle_units; ++m)
    make_unit(*middle_flow_, "unit" + std::to_string(m + 1), {channels, channels, channels},
              XceptionShortcut::identity, false);
  make_unit(*exit_flow_, "block1", c.exit_block1, XceptionShortcut::conv, false);
  make_unit(*exit_flow_, "block2", c.exit_block2, XceptionShortcut::none, true);
}

XceptionFeatures Xception::features(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "Xception: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  XceptionFeatures f;
  // Shapes with Xception-65's widths at output stride 16. Entry flow:
  Tensor x = conv1_1_bn_->forward_relu(conv1_1_->forward(images));  // (N, 32, H/2, W/2)
  x = conv1_2_bn_->forward_relu(conv1_2_->forward(x));              // (N, 64, H/2, W/2)
  x = units_[0]->forward(x);                                         // block1: (N, 128, H/4, W/4)
  XceptionUnitOutputs block2 = units_[1]->forward_features(x);       // (N, 256, H/8, W/8)
  f.low_level = block2.sepconv2;                                     // (N, 256, H/4, W/4)
  f.entry_flow = units_[2]->forward(block2.out);                     // block3: (N, 728, H/16, W/16)
  // Middle flow: units 3 … 3 + middle_units − 1, identity shortcuts.
  x = f.entry_flow;
  for (int m = 0; m < config_.middle_units; ++m) x = units_[3 + m]->forward(x);  // (N, 728, H/16, W/16)
  f.middle_flow = x;
  // Exit flow.
  x = units_[3 + config_.middle_units]->forward(f.middle_flow);  // block1: (N, 1024, H/os, W/os)
  f.exit_flow = units_[4 + config_.middle_units]->forward(x);    // block2: (N, 2048, H/os, W/os)
  return f;
}

Tensor Xception::forward(const Tensor& images) {
  return features(images).exit_flow;
}

}  // namespace pg

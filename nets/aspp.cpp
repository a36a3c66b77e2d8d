// ASPP (DeepLab v3's improved form): the rate schedule, the three kinds of branch and the
// concatenate → project step.
#include "nets/aspp.h"

#include "core/init.h"
#include "core/ops/pool2d.h"
#include "core/ops/resize_bilinear.h"
#include "core/ops/shape_ops.h"
#include "layers/separable_conv2d.h"
#include "layers/sequential.h"

namespace pg {

std::vector<int> aspp_rates_for_output_stride(int output_stride, const AsppRateSchedule& schedule) {
  check(output_stride >= 1 && schedule.output_stride >= 1,
        "aspp_rates_for_output_stride: output strides must be ≥ 1, got ", output_stride, " (schedule at ",
        schedule.output_stride, ")");
  std::vector<int> rates;
  for (int r : schedule.rates) {
    check(r >= 1, "aspp_rates_for_output_stride: rates must be ≥ 1, got ", r);
    const int scaled = r * schedule.output_stride;
    check(scaled % output_stride == 0, "aspp_rates_for_output_stride: rate ", r, " at output stride ",
          schedule.output_stride, " becomes ", scaled, "/", output_stride, " at output stride ",
          output_stride, ", not a whole number; pick a finer output stride or a schedule defined there");
    rates.push_back(scaled / output_stride);
  }
  return rates;
}

namespace {

std::shared_ptr<Conv2d> make_conv(int64_t in, int64_t out, int kernel, int rate, Rng& rng) {
  auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in,
                                                     .out_channels = out,
                                                     .kernel = kernel,
                                                     .pad = rate * (kernel - 1) / 2,
                                                     .dilation = rate,
                                                     .bias = false},
                                       rng);
  init::kaiming_normal(conv->weight(), rng, init::FanMode::fan_out);
  return conv;
}

}  // namespace

AsppConv::AsppConv(int64_t in_channels, int64_t out_channels, int kernel, int rate,
                   const BatchNorm2dOptions& bn, Rng& rng) {
  conv_ = register_module("0", make_conv(in_channels, out_channels, kernel, rate, rng));
  bn_ = register_module("1", std::make_shared<BatchNorm2d>(out_channels, bn));
}

Tensor AsppConv::forward(const Tensor& x) {
  return bn_->forward_relu(conv_->forward(x));
}

AsppImagePooling::AsppImagePooling(int64_t in_channels, int64_t out_channels, const BatchNorm2dOptions& bn,
                                   Rng& rng) {
  conv_ = register_module("1", make_conv(in_channels, out_channels, 1, 1, rng));
  bn_ = register_module("2", std::make_shared<BatchNorm2d>(out_channels, bn));
}

Tensor AsppImagePooling::forward(const Tensor& x) {
  // x: (N, C, h, w). The pooled map is 1×1, so batch statistics see N values per channel.
  const bool batch_statistics = bn_->is_training() && !bn_->is_frozen();
  check(!batch_statistics || x.size(0) > 1,
        "ASPP image pooling: its batch norm in train mode sees one value ",
        "per channel and image (the pooled map is 1×1), so it needs a batch of at least 2; got input ",
        shape_str(x.shape()),
        ". Train with batch ≥ 2, freeze the batch norms (freeze_batch_norm) or use eval()");
  Tensor pooled = global_avg_pool(x);                   // (N, C, 1, 1)
  pooled = bn_->forward_relu(conv_->forward(pooled));  // (N, out, 1, 1)
  return resize_bilinear(pooled, static_cast<int>(x.size(2)), static_cast<int>(x.size(3)),
                         /*align_corners=*/false);  // (N, out, h, w)
}

Aspp::Aspp(const AsppOptions& options, Rng& rng) : options_(options) {
  const AsppOptions& o = options_;
  check(o.in_channels > 0 && o.channels > 0, "ASPP: in_channels and channels must be positive, got ",
        o.in_channels, " and ", o.channels);
  for (int r : o.rates) check(r >= 1, "ASPP: atrous rates must be ≥ 1, got ", r);

  auto convs = register_module("convs", std::make_shared<Sequential>());
  conv1x1_ = convs->add(std::make_shared<AsppConv>(o.in_channels, o.channels, 1, 1, o.bn, rng));
  for (int r : o.rates) {
    if (o.separable)
      atrous_.push_back(
          convs->add(std::make_shared<SeparableConv2d>(SeparableConv2dOptions{.in_channels = o.in_channels,
                                                                              .out_channels = o.channels,
                                                                              .kernel = 3,
                                                                              .pad = r,
                                                                              .dilation = r,
                                                                              .bn = o.bn},
                                                       rng)));
    else
      atrous_.push_back(convs->add(std::make_shared<AsppConv>(o.in_channels, o.channels, 3, r, o.bn, rng)));
  }
  image_pooling_ = convs->add(std::make_shared<AsppImagePooling>(o.in_channels, o.channels, o.bn, rng));

  const int64_t branches = static_cast<int64_t>(o.rates.size()) + 2;
  auto project = register_module("project", std::make_shared<Sequential>());
  project_conv_ = project->add(make_conv(branches * o.channels, o.channels, 1, 1, rng));
  project_bn_ = project->add(std::make_shared<BatchNorm2d>(o.channels, o.bn));
  project_dropout_ = project->add(std::make_shared<Dropout>(o.dropout, rng));
}

Tensor Aspp::forward(const Tensor& x) {
  check(x.defined() && x.dim() == 4 && x.size(1) == options_.in_channels, "ASPP: expected features (N, ",
        options_.in_channels, ", h, w), got ", x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  // x: (N, C_in, h, w); every branch: (N, channels, h, w)
  std::vector<Tensor> branches;
  branches.push_back(conv1x1_->forward(x));
  for (const auto& atrous : atrous_) branches.push_back(atrous->forward(x));  // rates r1, r2, r3
  branches.push_back(image_pooling_->forward(x));
  Tensor y = concat(branches, 1);                             // (N, (rates + 2)·channels, h, w)
  y = project_bn_->forward_relu(project_conv_->forward(y));  // (N, channels, h, w)
  return project_dropout_->forward(y);
}

}  // namespace pg

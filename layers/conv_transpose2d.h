// ConvTranspose2d: a learned transposed convolution ("deconvolution") layer around the
// conv_transpose2d op: weight (C_in, C_out/groups, k, k) as PyTorch's nn.ConvTranspose2d,
// optional bias (C_out), PyTorch's default initialisation or FCN's fixed bilinear filter.
#pragma once
#include <cstdint>
#include <string>

#include "core/ops/conv_transpose2d.h"
#include "core/rng.h"
#include "layers/module.h"

namespace pg {

struct ConvTranspose2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int kernel = 4;  // square kernel
  int stride = 2;
  int pad = 0;
  int output_pad = 0;  // extra rows/cols at the bottom/right, < stride (or < dilation)
  int dilation = 1;
  int groups = 1;
  bool bias = true;
  // FCN's bilinear interpolation filter on the channel diagonal instead of random weights (bias,
  // if any, zero). Needs in_channels = out_channels and groups = 1.
  bool bilinear_init = false;
};

// The options of an upsampling-by-`factor` deconvolution initialised as bilinear interpolation,
// no bias (FCN): kernel 2·factor − factor % 2, stride factor, pad factor / 2, so that
// Ho = (H − 1)·factor − 2·(factor / 2) + kernel = factor · H exactly. Away from the outer
// factor / 2 rows and columns the output equals resize_bilinear with align_corners = false.
ConvTranspose2dOptions bilinear_upsampling_options(int64_t channels, int factor);

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(const ConvTranspose2dOptions& options, Rng& rng);

  // x: (N, in_channels, H, W) → (N, out_channels, Ho, Wo),
  // Ho = (H − 1)·stride − 2·pad + dilation·(kernel − 1) + output_pad + 1
  Tensor forward(const Tensor& x) override;

  const ConvTranspose2dOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // (in_channels, out_channels/groups, k, k)
  const Tensor& bias() const { return bias_; }      // (out_channels) or undefined

  std::string describe() const;  // "ConvTranspose2d(4 → 4, kernel 4, stride 2, pad 1)"

 private:
  ConvTranspose2dOptions options_;
  Tensor weight_;
  Tensor bias_;
};

}  // namespace pg

// Pooling ops: max (with argmax indices, ceil mode), average, adaptive average, global average,
// and max-unpool (SegNet's decoder). Output size as PyTorch: floor or ceil of
// (H + 2·pad − kernel) / stride + 1, and in ceil mode the last window must start inside the
// input or its left padding.
#pragma once
#include "core/tensor.h"

namespace pg {

struct Pool2dParams {
  int kernel = 2;
  int stride = 2;
  int pad = 0;
  int dilation = 1;  // max pooling only: taps this far apart (PyTorch's max_pool2d dilation)
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling only: divide by the full window, as PyTorch
};

struct MaxPoolResult {
  Tensor out;         // (N, C, Ho, Wo)
  IntTensor indices;  // (N, C, Ho, Wo): flat index h·W + w of each max within its input plane
};

// PyTorch's rules on a max or average pool window: kernel, stride and dilation positive,
// 0 ≤ pad ≤ kernel/2.
// `who` names the op or layer in the message. The ops call it; layers call it at construction.
void check_pool2d_params(const char* who, const Pool2dParams& p);

MaxPoolResult max_pool2d_with_indices(const Tensor& x, const Pool2dParams& p);  // x: (N,C,H,W)
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);
// Bin i of b over length L spans [floor(i·L/b), ceil((i+1)·L/b)): windows overlap when L is not
// a multiple of b and repeat when b > L. x: (N,C,H,W) → (N,C,out_h,out_w)
Tensor adaptive_avg_pool2d(const Tensor& x, int out_h, int out_w);
Tensor global_avg_pool(const Tensor& x);  // (N,C,H,W) → (N,C,1,1)
// Places each value of x at its recorded index in a zero (N,C,out_h,out_w) map.
Tensor max_unpool2d(const Tensor& x, const IntTensor& indices, int out_h, int out_w);

}  // namespace pg

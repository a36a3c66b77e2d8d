// The twin's micro aligned Xception (tools/reference/xception.py: micro): every kind of unit,
// few weights. Shared by the backbone's tests and DeepLab v3+ on Xception's.
#pragma once
#include "nets/backbones/xception.h"

namespace pg::test {

inline XceptionConfig micro_xception(int output_stride) {
  return {.conv1_1_channels = 2,
          .conv1_2_channels = 4,
          .entry_blocks = {4, 4, 6},
          .middle_units = 2,
          .exit_block1 = {6, 8, 8},
          .exit_block2 = {8, 8, 10},
          .output_stride = output_stride,
          .bn = {.momentum = 0.1f, .eps = 1e-3f}};
}

}  // namespace pg::test

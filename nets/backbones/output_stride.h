// Output stride: the ratio of a backbone's input size to its feature map size. DeepLab's atrous
// trick lowers it without new parameters: once the map has reached the target stride, each later
// stride-2 stage runs at stride 1 and its 3×3 convs dilate by the stride it gave up, so every
// filter still sees the same input pixels (torchvision's replace_stride_with_dilation).
#pragma once
#include <vector>

namespace pg {

// How one stage of units (a ResNet "layer") runs. torchvision's convention: the first unit of a
// dilated stage keeps the dilation the previous stage ended with, the following units use the
// new one (e.g. ResNet at output stride 8: layer3 units 1, 2, 2, …; layer4 units 2, 4, 4).
struct StageGeometry {
  int stride = 1;          // of the stage's first unit (its 3×3 conv and its shortcut)
  int first_dilation = 1;  // of the first unit's 3×3 conv
  int dilation = 1;        // of every later unit's 3×3 conv
};

// stage_strides: each stage's nominal stride (ResNet: 1, 2, 2, 2); input_stride: the stride
// of the stages' input (ResNet's stem, conv1 + max pool: 4). Walks the stages accumulating the
// stride; a stage whose stride would take the map past output_stride runs at stride 1 and
// multiplies the running dilation by its stride instead.
// output_stride must be input_stride times the product of a prefix of stage_strides (ResNet:
// 4, 8, 16 or 32); anything else is a pg::Error listing the reachable strides.
std::vector<StageGeometry> dilate_for_output_stride(const std::vector<int>& stage_strides, int input_stride,
                                                    int output_stride);

}  // namespace pg

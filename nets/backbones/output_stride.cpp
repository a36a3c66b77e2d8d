// dilate_for_output_stride: the stride → dilation rewrite behind every output-stride knob.
#include "nets/backbones/output_stride.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace pg {

std::vector<StageGeometry> dilate_for_output_stride(const std::vector<int>& stage_strides, int input_stride,
                                                    int output_stride) {
  check(input_stride >= 1, "dilate_for_output_stride: input_stride must be ≥ 1, got ", input_stride);
  // The strides the map passes through: input_stride, then after each downsampling stage.
  std::vector<int> reachable = {input_stride};
  for (int s : stage_strides) {
    check(s >= 1, "dilate_for_output_stride: stage strides must be ≥ 1, got ", s);
    if (s > 1) reachable.push_back(reachable.back() * s);
  }
  if (std::find(reachable.begin(), reachable.end(), output_stride) == reachable.end()) {
    std::string offered;
    for (int r : reachable) offered += (offered.empty() ? "" : ", ") + std::to_string(r);
    throw Error(str("dilate_for_output_stride: output stride ", output_stride,
                    " is not reachable; this backbone offers ", offered));
  }

  std::vector<StageGeometry> stages;
  int current_stride = input_stride;  // of the map entering the stage
  int dilation = 1;                   // the rate the previous stage ended with
  for (int s : stage_strides) {
    StageGeometry g{.stride = s, .first_dilation = dilation, .dilation = dilation};
    if (current_stride * s > output_stride) {
      g.stride = 1;
      dilation *= s;
      g.dilation = dilation;
    } else {
      current_stride *= s;
    }
    stages.push_back(g);
  }
  return stages;
}

}  // namespace pg

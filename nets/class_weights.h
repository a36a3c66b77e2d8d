// Median-frequency class balancing (Eigen & Fergus 2015, used by SegNet, Badrinarayanan et al.
// 2017, Sec. 4): weight_c = median_freq / freq_c, where freq_c = (pixels of class c) / (pixels of
// the images in which c is present) and the median is over the classes present. Rare classes get
// weights above 1, dominant ones (road, sky, background) below 1. The weights go to the loss as
// CrossEntropyParams::class_weights.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace pg {

// The label histogram the weights need, accumulated one label map at a time.
class ClassHistogram {
 public:
  explicit ClassHistogram(int num_classes);

  // label: (H, W) for one image, or (N, H, W) for N images (each counted as its own image).
  // Pixels equal to ignore_index are skipped (and do not count towards any image's size);
  // any other value outside [0, num_classes) is an error.
  void add(const LabelMap& label, int ignore_index = 255);

  int num_classes() const { return static_cast<int>(class_pixels_.size()); }
  // class_pixels()[c]: pixels labelled c over every image added.
  const std::vector<int64_t>& class_pixels() const { return class_pixels_; }
  // present_image_pixels()[c]: the (non-ignored) pixels of the images in which c occurs.
  const std::vector<int64_t>& present_image_pixels() const { return present_image_pixels_; }

 private:
  std::vector<int64_t> class_pixels_;
  std::vector<int64_t> present_image_pixels_;
};

// (C) weights, median_freq / freq_c. A class that never occurs gets weight 1 (it never meets the
// loss anyway). With an even number of present classes the median is the mean of the two middle
// frequencies. A histogram with no labelled pixel at all is an error.
Tensor median_frequency_weights(const ClassHistogram& histogram);

}  // namespace pg

// Median-frequency class weights from a label histogram (SegNet's class balancing).
#include "nets/class_weights.h"

#include <algorithm>

namespace pg {

ClassHistogram::ClassHistogram(int num_classes) {
  check(num_classes >= 1, "ClassHistogram: num_classes must be ≥ 1, got ", num_classes);
  class_pixels_.assign(num_classes, 0);
  present_image_pixels_.assign(num_classes, 0);
}

void ClassHistogram::add(const LabelMap& label, int ignore_index) {
  check(label.defined() && (label.dim() == 2 || label.dim() == 3),
        "ClassHistogram::add: expected a label map (H, W) or (N, H, W), got ",
        label.defined() ? shape_str(label.shape()) : "an undefined map");
  const int64_t images = label.dim() == 3 ? label.size(0) : 1;
  const int64_t plane = label.numel() / images;
  const int classes = num_classes();
  std::vector<int64_t> counts(classes);
  for (int64_t i = 0; i < images; ++i) {
    std::fill(counts.begin(), counts.end(), 0);
    int64_t labelled = 0;
    for (const int32_t* p = label.data() + i * plane; p != label.data() + (i + 1) * plane; ++p) {
      if (*p == ignore_index) continue;
      check(*p >= 0 && *p < classes, "ClassHistogram::add: label ", *p, " outside [0, ", classes,
            ") and not the ignore index ", ignore_index);
      ++counts[*p];
      ++labelled;
    }
    for (int c = 0; c < classes; ++c) {
      class_pixels_[c] += counts[c];
      if (counts[c] > 0) present_image_pixels_[c] += labelled;
    }
  }
}

Tensor median_frequency_weights(const ClassHistogram& histogram) {
  const int classes = histogram.num_classes();
  std::vector<double> freq(classes, 0.0), present;
  for (int c = 0; c < classes; ++c) {
    if (histogram.class_pixels()[c] == 0) continue;
    freq[c] = static_cast<double>(histogram.class_pixels()[c]) /
              static_cast<double>(histogram.present_image_pixels()[c]);
    present.push_back(freq[c]);
  }
  check(!present.empty(), "median_frequency_weights: the histogram holds no labelled pixel");
  std::sort(present.begin(), present.end());
  const size_t middle = present.size() / 2;
  const double median =
      present.size() % 2 == 1 ? present[middle] : 0.5 * (present[middle - 1] + present[middle]);
  Tensor weights = Tensor::empty({classes});
  for (int c = 0; c < classes; ++c)
    weights.data()[c] = freq[c] > 0 ? static_cast<float>(median / freq[c]) : 1.0f;
  return weights;
}

}  // namespace pg

// Segmentation metrics from one confusion matrix accumulated over a whole evaluation set (never
// averaged per image): rows are the ground-truth class, columns the predicted class, pixels
// labelled ignore (255) are dropped. From the matrix M (C × C):
//   pixel accuracy      = Σ_c M[c][c] / Σ M
//   class accuracy_c    = M[c][c] / Σ_k M[c][k]                      (recall of class c)
//   IoU_c               = M[c][c] / (Σ_k M[c][k] + Σ_k M[k][c] − M[c][c])
//   mIoU                = mean of IoU_c over the classes present in ground truth or prediction
//   frequency-weighted IoU = Σ_c freq_c · IoU_c, freq_c = Σ_k M[c][k] / Σ M   (FCN's score.py)
// A class that appears neither in ground truth nor in prediction has IoU NaN and is left out of
// every mean; mean class accuracy averages over the classes present in ground truth.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace pg {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes, int ignore_index = 255);

  // prediction, label: (N, H, W) or (H, W), the same shape. Labels equal to ignore_index are
  // dropped; any other label or prediction outside [0, C) is a pg::Error naming the pixel.
  void add(const LabelMap& prediction, const LabelMap& label);
  // logits: (N, C, H, W) → their argmax over C (the first maximum on ties), then add().
  void add_logits(const Tensor& logits, const LabelMap& label);
  void merge(const ConfusionMatrix& other);  // the sum of both matrices (same C)
  void reset();

  int num_classes() const { return num_classes_; }
  int64_t at(int truth, int predicted) const { return counts_[truth * num_classes_ + predicted]; }
  int64_t total() const;  // counted pixels (ignore pixels excluded)

  double pixel_accuracy() const;               // NaN when nothing was counted
  std::vector<double> class_accuracy() const;  // NaN for classes absent from ground truth
  double mean_class_accuracy() const;          // over the classes present in ground truth
  std::vector<double> iou() const;             // NaN for classes absent from both
  double mean_iou() const;                     // over the classes present in either; NaN if none
  double frequency_weighted_iou() const;

 private:
  int64_t row_sum(int c) const;  // ground-truth pixels of class c
  int64_t col_sum(int c) const;  // pixels predicted as c

  int num_classes_;
  int ignore_index_;
  std::vector<int64_t> counts_;  // row-major C × C
};

// logits: (N, C, H, W) → (N, H, W) argmax over C, the first maximum on ties.
LabelMap argmax_labels(const Tensor& logits);

}  // namespace pg

// The confusion matrix and the metrics read from it (core/metrics.h gives the formulas).
#include "core/metrics.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace pg {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

ConfusionMatrix::ConfusionMatrix(int num_classes, int ignore_index)
    : num_classes_(num_classes), ignore_index_(ignore_index) {
  check(num_classes >= 1, "ConfusionMatrix: num_classes must be >= 1, got ", num_classes);
  counts_.assign(static_cast<size_t>(num_classes) * num_classes, 0);
}

void ConfusionMatrix::add(const LabelMap& prediction, const LabelMap& label) {
  check(prediction.defined() && label.defined(),
        "ConfusionMatrix::add: prediction and label must be defined");
  check(prediction.shape() == label.shape(), "ConfusionMatrix::add: prediction ",
        shape_str(prediction.shape()), " and label ", shape_str(label.shape()), " must have the same shape");
  const int32_t* p = prediction.data();
  const int32_t* t = label.data();
  for (int64_t i = 0; i < label.numel(); ++i) {
    if (t[i] == ignore_index_) continue;
    check(t[i] >= 0 && t[i] < num_classes_, "ConfusionMatrix::add: label ", t[i], " at flat pixel ", i,
          " is outside [0, ", num_classes_, ") and is not the ignore value ", ignore_index_);
    check(p[i] >= 0 && p[i] < num_classes_, "ConfusionMatrix::add: prediction ", p[i], " at flat pixel ", i,
          " is outside [0, ", num_classes_, ")");
    ++counts_[t[i] * num_classes_ + p[i]];
  }
}

void ConfusionMatrix::add_logits(const Tensor& logits, const LabelMap& label) {
  check(logits.defined() && logits.dim() == 4 && logits.size(1) == num_classes_,
        "ConfusionMatrix::add_logits: expected logits (N, ", num_classes_, ", H, W), got ",
        logits.defined() ? shape_str(logits.shape()) : "none");
  add(argmax_labels(logits), label);
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  check(other.num_classes_ == num_classes_, "ConfusionMatrix::merge: ", other.num_classes_, " classes into ",
        num_classes_);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

void ConfusionMatrix::reset() {
  counts_.assign(counts_.size(), 0);
}

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t v : counts_) sum += v;
  return sum;
}

int64_t ConfusionMatrix::row_sum(int c) const {
  int64_t sum = 0;
  for (int k = 0; k < num_classes_; ++k) sum += at(c, k);
  return sum;
}

int64_t ConfusionMatrix::col_sum(int c) const {
  int64_t sum = 0;
  for (int k = 0; k < num_classes_; ++k) sum += at(k, c);
  return sum;
}

double ConfusionMatrix::pixel_accuracy() const {
  int64_t diagonal = 0;
  for (int c = 0; c < num_classes_; ++c) diagonal += at(c, c);
  const int64_t n = total();
  return n == 0 ? kNaN : static_cast<double>(diagonal) / static_cast<double>(n);
}

std::vector<double> ConfusionMatrix::class_accuracy() const {
  std::vector<double> accuracy(num_classes_);
  for (int c = 0; c < num_classes_; ++c) {
    const int64_t row = row_sum(c);
    accuracy[c] = row == 0 ? kNaN : static_cast<double>(at(c, c)) / static_cast<double>(row);
  }
  return accuracy;
}

std::vector<double> ConfusionMatrix::iou() const {
  std::vector<double> result(num_classes_);
  for (int c = 0; c < num_classes_; ++c) {
    const int64_t union_ = row_sum(c) + col_sum(c) - at(c, c);
    result[c] = union_ == 0 ? kNaN : static_cast<double>(at(c, c)) / static_cast<double>(union_);
  }
  return result;
}

namespace {
// The mean of the values that are not NaN (NaN when all are).
double nan_mean(const std::vector<double>& values) {
  double sum = 0.0;
  int count = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++count;
  return count == 0 ? kNaN : sum / count;
}
}  // namespace

double ConfusionMatrix::mean_class_accuracy() const {
  return nan_mean(class_accuracy());
}

double ConfusionMatrix::mean_iou() const {
  return nan_mean(iou());
}

double ConfusionMatrix::frequency_weighted_iou() const {
  const int64_t n = total();
  if (n == 0) return kNaN;
  const std::vector<double> per_class = iou();
  double sum = 0.0;
  for (int c = 0; c < num_classes_; ++c) {
    const int64_t row = row_sum(c);
    if (row > 0) sum += static_cast<double>(row) / static_cast<double>(n) * per_class[c];
  }
  return sum;
}

LabelMap argmax_labels(const Tensor& logits) {
  check(logits.defined() && logits.dim() == 4, "argmax_labels: expected logits (N, C, H, W), got ",
        logits.defined() ? shape_str(logits.shape()) : "none");
  const int64_t n = logits.size(0), classes = logits.size(1), plane = logits.size(2) * logits.size(3);
  LabelMap labels({n, logits.size(2), logits.size(3)});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < plane; ++p) {
      const float* z = logits.data() + i * classes * plane + p;
      int32_t best = 0;
      for (int64_t k = 1; k < classes; ++k)
        if (z[k * plane] > z[best * plane]) best = static_cast<int32_t>(k);
      labels.data()[i * plane + p] = best;
    }
  return labels;
}

}  // namespace pg

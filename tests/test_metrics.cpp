// ConfusionMatrix and its metrics against matrices worked out by hand: rows ground truth, columns
// prediction, ignore pixels dropped, NaN for classes absent from both, accumulation over batches
// equal to one big batch, argmax of logits.
#include <gtest/gtest.h>

#include <cmath>

#include "core/metrics.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// 3 classes, 10 labelled pixels and 2 ignored ones:
//   truth 0: predicted 0,0,0,1     truth 1: predicted 1,1,2     truth 2: predicted 2,0,2
// M = [[3,1,0],[0,2,1],[1,0,2]]
ConfusionMatrix hand_matrix() {
  ConfusionMatrix m(3);
  const LabelMap truth = LabelMap::from_vector({12}, {0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 255, 255});
  const LabelMap predicted = LabelMap::from_vector({12}, {0, 0, 0, 1, 1, 1, 2, 2, 0, 2, 1, 0});
  m.add(predicted, truth);
  return m;
}

}  // namespace

TEST(Metrics, ConfusionMatrixRowsAreTruthColumnsPrediction) {
  const ConfusionMatrix m = hand_matrix();
  const int64_t expected[3][3] = {{3, 1, 0}, {0, 2, 1}, {1, 0, 2}};
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p) EXPECT_EQ(m.at(t, p), expected[t][p]) << "truth " << t << " predicted " << p;
  EXPECT_EQ(m.total(), 10);  // the two ignore pixels are dropped
}

TEST(Metrics, HandComputedValues) {
  const ConfusionMatrix m = hand_matrix();
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 7.0 / 10.0);
  const std::vector<double> accuracy = m.class_accuracy();
  EXPECT_DOUBLE_EQ(accuracy[0], 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(accuracy[1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(accuracy[2], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.mean_class_accuracy(), (3.0 / 4 + 2.0 / 3 + 2.0 / 3) / 3);
  // IoU_c = M[c][c] / (row + col − M[c][c]): class 0: 3/(4+4−3), 1: 2/(3+3−2), 2: 2/(3+3−2)
  const std::vector<double> iou = m.iou();
  EXPECT_DOUBLE_EQ(iou[0], 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(iou[1], 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(iou[2], 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(m.mean_iou(), (0.6 + 0.5 + 0.5) / 3);
  // FWIoU = Σ (row_c / total) · IoU_c = 0.4·0.6 + 0.3·0.5 + 0.3·0.5
  EXPECT_DOUBLE_EQ(m.frequency_weighted_iou(), 0.4 * 0.6 + 0.3 * 0.5 + 0.3 * 0.5);
}

TEST(Metrics, AbsentClassesAreNaNAndLeftOutOfTheMeans) {
  // 4 classes; class 3 never appears; class 2 is only predicted (never in the truth).
  ConfusionMatrix m(4);
  m.add(LabelMap::from_vector({2, 2}, {0, 1, 2, 1}), LabelMap::from_vector({2, 2}, {0, 1, 1, 1}));
  const std::vector<double> iou = m.iou(), accuracy = m.class_accuracy();
  EXPECT_TRUE(std::isnan(iou[3]));
  EXPECT_DOUBLE_EQ(iou[2], 0.0);  // predicted but absent from truth: IoU 0, counted in mIoU
  EXPECT_TRUE(std::isnan(accuracy[2]));
  EXPECT_TRUE(std::isnan(accuracy[3]));
  EXPECT_DOUBLE_EQ(iou[0], 1.0);
  EXPECT_DOUBLE_EQ(iou[1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.mean_iou(), (1.0 + 2.0 / 3.0 + 0.0) / 3);
  EXPECT_DOUBLE_EQ(m.mean_class_accuracy(), (1.0 + 2.0 / 3.0) / 2);
  EXPECT_DOUBLE_EQ(m.frequency_weighted_iou(), 0.25 * 1.0 + 0.75 * (2.0 / 3.0));
}

TEST(Metrics, EmptyMatrixGivesNaN) {
  ConfusionMatrix m(2);
  m.add(LabelMap::from_vector({2}, {0, 1}), LabelMap::from_vector({2}, {255, 255}));
  EXPECT_EQ(m.total(), 0);
  EXPECT_TRUE(std::isnan(m.pixel_accuracy()));
  EXPECT_TRUE(std::isnan(m.mean_iou()));
  EXPECT_TRUE(std::isnan(m.frequency_weighted_iou()));
}

TEST(Metrics, AccumulatingBatchesEqualsOneBigBatch) {
  Rng rng(7);
  const int classes = 5;
  std::vector<int32_t> truth(2 * 6 * 7), predicted(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = rng.below(10) == 0 ? 255 : static_cast<int32_t>(rng.below(classes));
    predicted[i] = static_cast<int32_t>(rng.below(classes));
  }
  ConfusionMatrix whole(classes), parts(classes), merged(classes);
  whole.add(LabelMap::from_vector({2, 6, 7}, predicted), LabelMap::from_vector({2, 6, 7}, truth));
  const size_t half = truth.size() / 2;
  for (int b = 0; b < 2; ++b) {
    const std::vector<int32_t> p(predicted.begin() + b * half, predicted.begin() + (b + 1) * half);
    const std::vector<int32_t> t(truth.begin() + b * half, truth.begin() + (b + 1) * half);
    parts.add(LabelMap::from_vector({1, 6, 7}, p), LabelMap::from_vector({1, 6, 7}, t));
    ConfusionMatrix one(classes);
    one.add(LabelMap::from_vector({1, 6, 7}, p), LabelMap::from_vector({1, 6, 7}, t));
    merged.merge(one);
  }
  for (int t = 0; t < classes; ++t)
    for (int p = 0; p < classes; ++p) {
      EXPECT_EQ(parts.at(t, p), whole.at(t, p));
      EXPECT_EQ(merged.at(t, p), whole.at(t, p));
    }
  EXPECT_DOUBLE_EQ(parts.mean_iou(), whole.mean_iou());
}

TEST(Metrics, LogitsAreArgmaxed) {
  // (1, 3, 1, 2): pixel 0 scores (0.1, 2, −1) → 1; pixel 1 scores (5, 5, 1) → 0 (first maximum).
  const Tensor logits = Tensor::from_vector({1, 3, 1, 2}, {0.1f, 5, 2, 5, -1, 1});
  const LabelMap labels = argmax_labels(logits);
  EXPECT_EQ(labels.data()[0], 1);
  EXPECT_EQ(labels.data()[1], 0);
  ConfusionMatrix m(3);
  m.add_logits(logits, LabelMap::from_vector({1, 1, 2}, {1, 2}));
  EXPECT_EQ(m.at(1, 1), 1);
  EXPECT_EQ(m.at(2, 0), 1);
}

TEST(Metrics, BadInputIsAClearError) {
  ConfusionMatrix m(3);
  test::expect_error_containing(
      [&] {
        m.add(LabelMap::from_vector({2}, {0, 1}), LabelMap::from_vector({3}, {0, 1, 2}));
      },
      "same shape");
  test::expect_error_containing(
      [&] {
        m.add(LabelMap::from_vector({2}, {0, 1}), LabelMap::from_vector({2}, {0, 7}));
      },
      "label 7");
  test::expect_error_containing(
      [&] {
        m.add(LabelMap::from_vector({2}, {0, 3}), LabelMap::from_vector({2}, {0, 1}));
      },
      "prediction 3");
  test::expect_error_containing(
      [&] {
        m.add_logits(Tensor::zeros({1, 4, 2, 2}), LabelMap({1, 2, 2}));
      },
      "expected logits (N, 3, H, W)");
  test::expect_error_containing([] { ConfusionMatrix bad(0); }, "num_classes");
}

// Implementation of the shared test helpers (see test_util.h).
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"

namespace pg::test {

Tensor random_tensor(const Shape& shape, Rng& rng, float low, float high) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(low, high);
  return t;
}

std::vector<float> random_vector(size_t count, Rng& rng, float low, float high) {
  std::vector<float> v(count);
  for (float& x : v) x = rng.uniform(low, high);
  return v;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

Tensor with_grad(Tensor t) {
  t.set_requires_grad(true);
  return t;
}

void expect_close(const float* actual, const float* expected, int64_t count, float rtol, float atol,
                  const std::string& what) {
  double max_diff = 0.0;
  int64_t bad = 0;
  std::ostringstream first;
  for (int64_t i = 0; i < count; ++i) {
    double diff = std::fabs(static_cast<double>(actual[i]) - expected[i]);
    bool ok = diff <= atol + rtol * std::fabs(expected[i]);  // also false for NaN
    if (!(diff <= max_diff)) max_diff = diff;
    if (!ok && bad++ < 5) first << "  [" << i << "] got " << actual[i] << ", expected " << expected[i] << "\n";
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << count << " values differ (rtol " << rtol << ", atol "
                    << atol << "), max |diff| " << max_diff << "\n"
                    << first.str();
}

void expect_close(const Tensor& actual, const Tensor& expected, float rtol, float atol, const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what << ": shape " << shape_str(actual.shape()) << " vs "
                                              << shape_str(expected.shape());
  expect_close(actual.data(), expected.data(), actual.numel(), rtol, atol, what);
}

// Σ f(inputs) ⊙ weights in double, without recording a graph.
static double weighted_sum(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                           const std::vector<Tensor>& inputs, const Tensor& weights) {
  NoGradGuard no_grad;
  Tensor out = f(inputs);
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(out.data()[i]) * weights.data()[i];
  return s;
}

void expect_gradients_match(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            const std::vector<Tensor>& inputs, const GradCheckOptions& o) {
  Rng rng(o.seed);
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) const_cast<Tensor&>(t).zero_grad();
  Tensor out = f(inputs);
  ASSERT_TRUE(out.requires_grad()) << "grad check: the output does not require grad";
  Tensor weights = random_tensor(out.shape(), rng);
  out.backward(weights);

  for (size_t which = 0; which < inputs.size(); ++which) {
    const Tensor& x = inputs[which];
    if (!x.defined() || !x.requires_grad()) continue;
    ASSERT_TRUE(x.grad().defined()) << "grad check: input " << which << " received no gradient";
    std::vector<int64_t> points(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i) points[i] = i;
    if (static_cast<int64_t>(points.size()) > o.max_points) {
      for (int64_t i = 0; i < o.max_points; ++i) std::swap(points[i], points[i + rng.below(x.numel() - i)]);
      points.resize(o.max_points);
    }
    int skipped = 0, failed = 0;
    std::ostringstream first;
    for (int64_t i : points) {
      float original = x.data()[i];
      auto difference = [&](float h) {
        x.data()[i] = original + h;
        double plus = weighted_sum(f, inputs, weights);
        x.data()[i] = original - h;
        double minus = weighted_sum(f, inputs, weights);
        x.data()[i] = original;
        return (plus - minus) / (2.0 * h);
      };
      double numeric = difference(o.step);
      double numeric_half = difference(o.step / 2);
      double analytic = x.grad().data()[i];
      double scale = std::max({1.0, std::fabs(analytic), std::fabs(numeric)});
      if (std::fabs(numeric - numeric_half) > o.tolerance * scale) {  // not smooth here: a kink
        ++skipped;
        continue;
      }
      if (!(std::fabs(analytic - numeric) <= o.tolerance * scale) && failed++ < 5)
        first << "  input " << which << " [" << i << "]: analytic " << analytic << ", numeric " << numeric << "\n";
    }
    EXPECT_EQ(failed, 0) << "grad check: " << failed << " of " << points.size() << " gradient entries of input "
                         << which << " disagree\n"
                         << first.str();
    EXPECT_LE(skipped * 5, static_cast<int>(points.size()))
        << "grad check: " << skipped << " of " << points.size() << " points of input " << which
        << " sit on kinks; use inputs away from them";
  }
}

void expect_error_containing(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "expected a pg::Error containing '" << part << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "message: " << e.what();
  }
}

}  // namespace pg::test

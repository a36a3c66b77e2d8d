// Helpers shared by the test suites: seeded random tensors, element-wise comparison that prints
// the first mismatching pairs and the largest difference, the finite-difference gradient check,
// and the check that a call fails with a given message.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace pg::test {

Tensor random_tensor(const Shape& shape, Rng& rng, float low = -1.0f, float high = 1.0f);
std::vector<float> random_vector(size_t count, Rng& rng, float low = -1.0f, float high = 1.0f);

// Σ a[i]·b[i] in double: the inner product behind the adjoint tests <A x, y> = <x, Aᵀ y>.
double dot(const std::vector<float>& a, const std::vector<float>& b);

// t, marked as a leaf that requires grad (for building inputs in one expression).
Tensor with_grad(Tensor t);

// Passes when |a − b| ≤ atol + rtol·|b| everywhere; otherwise fails the current test and prints
// the first few pairs that differ and the maximum absolute difference.
void expect_close(const float* actual, const float* expected, int64_t count, float rtol, float atol,
                  const std::string& what);
void expect_close(const Tensor& actual, const Tensor& expected, float rtol, float atol, const std::string& what);

struct GradCheckOptions {
  float step = 1e-2f;       // central-difference step h: (f(x+h) − f(x−h)) / 2h
  float tolerance = 5e-3f;  // |analytic − numeric| ≤ tolerance · max(1, |analytic|, |numeric|)
  int max_points = 200;     // per input: a random subset of elements is checked when larger
  uint64_t seed = 1;
};

// Checks the gradients of every input that requires grad. The scalar under test is
// L = Σ f(inputs) ⊙ r for a fixed random r, so every output element contributes. Elements where
// the function is not smooth (a ReLU or max kink within the step) are found by comparing the
// differences at h and h/2 and skipped; more than a fifth skipped fails the check.
void expect_gradients_match(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            const std::vector<Tensor>& inputs, const GradCheckOptions& options = {});

// Passes when f() throws a pg::Error whose message contains `part`; otherwise fails the current
// test and prints the message (or says that nothing was thrown).
void expect_error_containing(const std::function<void()>& f, const std::string& part);

}  // namespace pg::test

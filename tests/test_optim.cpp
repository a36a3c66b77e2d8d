// Optimizers against updates worked out by hand (in the comments) for 2-3 steps: SGD, momentum,
// Nesterov, weight decay, Adam, AdamW; parameter groups; skipped parameters; and state
// export/import resuming exactly (also through a safetensors file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/adam.h"
#include "core/autograd.h"
#include "core/safetensors.h"
#include "core/sgd.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

Tensor parameter(const std::vector<float>& values) {
  Tensor p = Tensor::from_vector({static_cast<int64_t>(values.size())}, values);
  p.set_requires_grad(true);
  return p;
}

// Replaces p's gradient with `values`, as a fresh backward after zero_grad() would.
void set_grad(const Tensor& p, const std::vector<float>& values) {
  float* grad = grad_accumulator(p);
  for (size_t i = 0; i < values.size(); ++i) grad[i] = values[i];
}

// Runs `steps` steps of `optimizer` with the gradients of one scalar parameter given per step.
void run_steps(Optimizer& optimizer, const Tensor& p, const std::vector<float>& grads) {
  for (float g : grads) {
    set_grad(p, {g});
    optimizer.step();
  }
}

}  // namespace

// lr 0.1: p ← p − 0.1 · g. [1, −2] − 0.1 · [0.5, 1] = [0.95, −2.1], then [0.9, −2.2].
TEST(Sgd, PlainStep) {
  Tensor p = parameter({1.0f, -2.0f});
  Sgd sgd({p}, SgdParams{.lr = 0.1f});
  set_grad(p, {0.5f, 1.0f});
  sgd.step();
  test::expect_close(p, Tensor::from_vector({2}, {0.95f, -2.1f}), 1e-6f, 1e-7f, "step 1");
  sgd.step();
  test::expect_close(p, Tensor::from_vector({2}, {0.9f, -2.2f}), 1e-6f, 1e-7f, "step 2");
  EXPECT_EQ(sgd.step_count(), 2);
  NamedTensors state = sgd.state_dict();  // plain SGD keeps step counts but no buffers
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "step");
  EXPECT_EQ(state[1].first, "state.0.0.step");
  EXPECT_EQ(state[1].second.item(), 2.0f);
}

// lr 0.1, momentum 0.9, p = 1, grads 1, 2, −1:
//   buf = 1                      p = 1 − 0.1 · 1 = 0.9
//   buf = 0.9 · 1 + 2 = 2.9      p = 0.9 − 0.29 = 0.61
//   buf = 0.9 · 2.9 − 1 = 1.61   p = 0.61 − 0.161 = 0.449
TEST(Sgd, Momentum) {
  Tensor p = parameter({1.0f});
  Sgd sgd({p}, SgdParams{.lr = 0.1f, .momentum = 0.9f});
  set_grad(p, {1.0f});
  sgd.step();
  EXPECT_NEAR(p.item(), 0.9f, 1e-6f);
  set_grad(p, {2.0f});
  sgd.step();
  EXPECT_NEAR(p.item(), 0.61f, 1e-6f);
  set_grad(p, {-1.0f});
  sgd.step();
  EXPECT_NEAR(p.item(), 0.449f, 1e-6f);
}

// Nesterov, same settings: p −= 0.1 · (g + 0.9 · buf), with buf as above:
//   1 + 0.9 · 1 = 1.9        p = 1 − 0.19 = 0.81
//   2 + 0.9 · 2.9 = 4.61     p = 0.81 − 0.461 = 0.349
//   −1 + 0.9 · 1.61 = 0.449  p = 0.349 − 0.0449 = 0.3041
TEST(Sgd, Nesterov) {
  Tensor p = parameter({1.0f});
  Sgd sgd({p}, SgdParams{.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
  run_steps(sgd, p, {1.0f});
  EXPECT_NEAR(p.item(), 0.81f, 1e-6f);
  run_steps(sgd, p, {2.0f});
  EXPECT_NEAR(p.item(), 0.349f, 1e-6f);
  run_steps(sgd, p, {-1.0f});
  EXPECT_NEAR(p.item(), 0.3041f, 1e-6f);
}

// lr 0.1, momentum 0.5, weight decay 0.1, p = 2, grad 1 at each step:
//   g = 1 + 0.1 · 2 = 1.2        buf = 1.2                   p = 2 − 0.12 = 1.88
//   g = 1 + 0.1 · 1.88 = 1.188   buf = 0.6 + 1.188 = 1.788   p = 1.88 − 0.1788 = 1.7012
TEST(Sgd, WeightDecayEntersTheGradient) {
  Tensor p = parameter({2.0f});
  Sgd sgd({p}, SgdParams{.lr = 0.1f, .momentum = 0.5f, .weight_decay = 0.1f});
  run_steps(sgd, p, {1.0f});
  EXPECT_NEAR(p.item(), 1.88f, 1e-6f);
  run_steps(sgd, p, {1.0f});
  EXPECT_NEAR(p.item(), 1.7012f, 1e-6f);
}

// lr 0.1, β1 0.9, β2 0.999, p = 1, grads 2 then −1:
//   t=1: m = 0.2, v = 0.004; lr / (1 − 0.9) = 1; sqrt(0.004) / sqrt(0.001) = 2; p = 1 − 0.2 / 2 = 0.9
//   t=2: m = 0.18 − 0.1 = 0.08, v = 0.003996 + 0.001 = 0.004996; lr / 0.19 = 0.5263158;
//        sqrt(0.004996 / 0.001999) = 1.580901; p = 0.9 − 0.5263158 · 0.08 / 1.580901 = 0.8733663
TEST(Adam, TwoSteps) {
  Tensor p = parameter({1.0f});
  Adam adam({p}, AdamParams{.lr = 0.1f});
  run_steps(adam, p, {2.0f});
  EXPECT_NEAR(p.item(), 0.9f, 1e-6f);
  run_steps(adam, p, {-1.0f});
  EXPECT_NEAR(p.item(), 0.8733663f, 1e-6f);
}

// L2 weight decay 0.5 through the gradient, same settings:
//   t=1: g = 2 + 0.5 = 2.5; m = 0.25, v = 0.00625; p = 1 − 0.25 / 2.5 = 0.9
//   t=2: g = −1 + 0.45 = −0.55; m = 0.225 − 0.055 = 0.17; v = 0.00624375 + 0.0003025 = 0.00654625;
//        sqrt(0.00654625 / 0.001999) = 1.809630; p = 0.9 − 0.5263158 · 0.17 / 1.809630 = 0.8505569
TEST(Adam, L2WeightDecay) {
  Tensor p = parameter({1.0f});
  Adam adam({p}, AdamParams{.lr = 0.1f, .weight_decay = 0.5f});
  run_steps(adam, p, {2.0f, -1.0f});
  EXPECT_NEAR(p.item(), 0.8505569f, 1e-6f);
}

// AdamW, decay 0.5: p ← p · (1 − 0.1 · 0.5) before the Adam step, whose moments are as in TwoSteps:
//   t=1: p = 0.95 − 0.1 = 0.85
//   t=2: p = 0.85 · 0.95 − 0.0266337 = 0.8075 − 0.0266337 = 0.7808663
TEST(Adam, AdamWDecoupledWeightDecay) {
  Tensor p = parameter({1.0f});
  Adam adamw({p}, AdamParams{.lr = 0.1f, .weight_decay = 0.5f, .decoupled_weight_decay = true});
  run_steps(adamw, p, {2.0f});
  EXPECT_NEAR(p.item(), 0.85f, 1e-6f);
  run_steps(adamw, p, {-1.0f});
  EXPECT_NEAR(p.item(), 0.7808663f, 1e-6f);
}

// Group 0 inherits lr 0.5 and weight decay 0.1; group 1 trains at lr × 0.1 without decay.
//   a = 1 − 0.5 · (1 + 0.1 · 1) = 0.45            b = 1 − 0.05 · 1 = 0.95
// set_lr(0.2):
//   a = 0.45 − 0.2 · (1 + 0.045) = 0.241          b = 0.95 − 0.02 = 0.93
TEST(Optimizer, ParamGroupsWithLrMultipliers) {
  Tensor a = parameter({1.0f}), b = parameter({1.0f});
  Sgd sgd({ParamGroup{.params = {a}}, ParamGroup{.params = {b}, .lr_multiplier = 0.1f, .weight_decay = 0.0f}},
          SgdParams{.lr = 0.5f, .weight_decay = 0.1f});
  EXPECT_FLOAT_EQ(sgd.group_lr(1), 0.05f);
  EXPECT_FLOAT_EQ(sgd.group_weight_decay(0), 0.1f);
  EXPECT_FLOAT_EQ(sgd.group_weight_decay(1), 0.0f);
  set_grad(a, {1.0f});
  set_grad(b, {1.0f});
  sgd.step();
  EXPECT_NEAR(a.item(), 0.45f, 1e-6f);
  EXPECT_NEAR(b.item(), 0.95f, 1e-6f);
  sgd.set_lr(0.2f);
  EXPECT_FLOAT_EQ(sgd.lr(), 0.2f);
  EXPECT_FLOAT_EQ(sgd.group_lr(1), 0.02f);
  sgd.step();
  EXPECT_NEAR(a.item(), 0.241f, 1e-6f);
  EXPECT_NEAR(b.item(), 0.93f, 1e-6f);
  EXPECT_THROW(sgd.group_lr(2), Error);
}

TEST(Optimizer, ParametersWithoutGradAreSkipped) {
  Tensor used = parameter({1.0f}), unused = parameter({3.0f, 4.0f});
  Adam adam(std::vector<Tensor>{used, unused}, AdamParams{.lr = 0.1f, .weight_decay = 0.5f});
  run_steps(adam, used, {2.0f, -1.0f});
  EXPECT_EQ(unused.to_vector(), (std::vector<float>{3.0f, 4.0f}));  // weight decay did not touch it
  NamedTensors state = adam.state_dict();
  for (const auto& [name, t] : state) EXPECT_EQ(name.rfind("state.0.1.", 0), std::string::npos) << name;
  EXPECT_EQ(state.size(), 1u + 3u);  // "step" + step, exp_avg, exp_avg_sq of the used parameter
}

TEST(Optimizer, ZeroGradDropsGradients) {
  Tensor p = parameter({1.0f});
  Sgd sgd({p}, SgdParams{});
  set_grad(p, {1.0f});
  EXPECT_TRUE(p.grad().defined());
  sgd.zero_grad();
  EXPECT_FALSE(p.grad().defined());
}

namespace {

// Two parameters in two groups; the second one gets a gradient only on even steps, so per-parameter
// step counts differ. The gradients depend only on the step index and the parameter values.
struct ResumeSetup {
  Tensor weight = Tensor::from_vector({2, 3}, {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f});
  Tensor bias = Tensor::from_vector({3}, {0.1f, -0.2f, 0.3f});
  ResumeSetup() {
    weight.set_requires_grad(true);
    bias.set_requires_grad(true);
  }
  std::vector<ParamGroup> groups() const {
    return {ParamGroup{.params = {weight}}, ParamGroup{.params = {bias}, .lr_multiplier = 2.0f}};
  }
  void step(Optimizer& optimizer, int step_index) {
    optimizer.zero_grad();
    for (int64_t i = 0; i < weight.numel(); ++i)
      grad_accumulator(weight)[i] = std::sin(1.3f * step_index + i) + 0.5f * weight.data()[i];
    if (step_index % 2 == 0)
      for (int64_t i = 0; i < bias.numel(); ++i) grad_accumulator(bias)[i] = std::cos(0.7f * step_index - i);
    optimizer.step();
  }
};

template <typename MakeOptimizer>
void expect_exact_resume(const MakeOptimizer& make, const std::string& file) {
  ResumeSetup straight, resumed;
  auto straight_optimizer = make(straight.groups());
  for (int s = 0; s < 4; ++s) straight.step(*straight_optimizer, s);

  auto first_half = make(resumed.groups());
  resumed.step(*first_half, 0);
  resumed.step(*first_half, 1);
  save_safetensors(file, first_half->state_dict());
  first_half.reset();
  auto second_half = make(resumed.groups());
  second_half->load_state_dict(load_safetensors(file).tensors);
  EXPECT_EQ(second_half->step_count(), 2);
  resumed.step(*second_half, 2);
  resumed.step(*second_half, 3);

  EXPECT_EQ(resumed.weight.to_vector(), straight.weight.to_vector());
  EXPECT_EQ(resumed.bias.to_vector(), straight.bias.to_vector());
  EXPECT_NE(straight.bias.to_vector(), (std::vector<float>{0.1f, -0.2f, 0.3f}));
}

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / str("pixelgrad_optim_", ::getpid(), "_", name)).string();
}

}  // namespace

TEST(Optimizer, SgdStateResumesExactly) {
  const std::string file = temp_file("sgd.safetensors");
  expect_exact_resume(
      [](std::vector<ParamGroup> groups) {
        return std::make_unique<Sgd>(
            std::move(groups),
            SgdParams{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f, .nesterov = true});
      },
      file);
  std::filesystem::remove(file);
}

TEST(Optimizer, AdamStateResumesExactly) {
  const std::string file = temp_file("adamw.safetensors");
  expect_exact_resume(
      [](std::vector<ParamGroup> groups) {
        return std::make_unique<Adam>(
            std::move(groups), AdamParams{.lr = 0.05f, .weight_decay = 0.1f, .decoupled_weight_decay = true});
      },
      file);
  std::filesystem::remove(file);
}

TEST(Optimizer, StateNamesAndLoadErrors) {
  Tensor p = parameter({1.0f, 2.0f});
  Sgd sgd({p}, SgdParams{.lr = 0.1f, .momentum = 0.9f});
  set_grad(p, {1.0f, 1.0f});
  sgd.step();
  NamedTensors state = sgd.state_dict();
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[0].first, "step");
  EXPECT_EQ(state[1].first, "state.0.0.step");
  EXPECT_EQ(state[2].first, "state.0.0.momentum_buffer");
  EXPECT_EQ(state[2].second.to_vector(), (std::vector<float>{1.0f, 1.0f}));

  Tensor other = parameter({1.0f, 2.0f});
  Sgd fresh({other}, SgdParams{.lr = 0.1f, .momentum = 0.9f});
  NamedTensors wrong_shape = {state[0], state[1], {"state.0.0.momentum_buffer", Tensor::zeros({3})}};
  EXPECT_THROW(fresh.load_state_dict(wrong_shape), Error);
  NamedTensors missing_buffer = {state[0], state[1]};
  EXPECT_THROW(fresh.load_state_dict(missing_buffer), Error);
  NamedTensors unknown = state;
  unknown.emplace_back("state.0.0.exp_avg", Tensor::zeros({2}));  // an Adam buffer
  EXPECT_THROW(fresh.load_state_dict(unknown), Error);
  NamedTensors no_step = {state[1], state[2]};
  EXPECT_THROW(fresh.load_state_dict(no_step), Error);
  EXPECT_EQ(fresh.step_count(), 0);  // failed loads changed nothing
  EXPECT_EQ(fresh.state_dict().size(), 1u);
  fresh.load_state_dict(state);
  EXPECT_EQ(fresh.step_count(), 1);
}

TEST(Optimizer, RejectsBadSettings) {
  Tensor p = parameter({1.0f});
  EXPECT_THROW(Sgd({p}, SgdParams{.lr = -1.0f}), Error);
  EXPECT_THROW(Sgd({p}, SgdParams{.nesterov = true}), Error);  // nesterov without momentum
  EXPECT_THROW(Sgd({ParamGroup{.params = {p}}, ParamGroup{.params = {p}}}, SgdParams{}), Error);  // twice
  EXPECT_THROW(Sgd(std::vector<Tensor>{Tensor()}, SgdParams{}), Error);
  EXPECT_THROW(Adam({p}, AdamParams{.beta1 = 1.0f}), Error);
  Sgd sgd({p}, SgdParams{});
  EXPECT_THROW(sgd.set_lr(-0.1f), Error);
}

// Golden tests against PyTorch: tools/reference/ops.py ran each op on seeded inputs and wrote
// the inputs, the outputs, a random r and the gradients of L = Σ out ⊙ r to
// tests/golden/ops.safetensors. Here each op runs on the same inputs and its output and every
// gradient are compared (relative 1e-4 for outputs, 1e-3 for gradients). The settings of each
// case mirror the Python file; the names tie them together.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "core/ops/batch_norm.h"
#include "core/ops/conv2d.h"
#include "core/ops/conv_transpose2d.h"
#include "core/ops/cross_entropy.h"
#include "core/ops/pool2d.h"
#include "core/ops/reduce.h"
#include "core/ops/resize_bilinear.h"
#include "core/ops/shape_ops.h"
#include "core/ops/softmax.h"
#include "core/safetensors.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

const char* kGoldenPath = "tests/golden/ops.safetensors";
constexpr float kOutputRtol = 1e-4f, kOutputAtol = 1e-5f;
constexpr float kGradRtol = 1e-3f, kGradAtol = 1e-4f;

class GoldenOps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::filesystem::exists(kGoldenPath))
      golden_ = new SafetensorsContents(load_safetensors(kGoldenPath));
  }
  static void TearDownTestSuite() {
    delete golden_;
    golden_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(golden_, nullptr)
        << kGoldenPath << " not found from the working directory " << std::filesystem::current_path()
        << ": run the tests from the repository root (make test), or regenerate the file "
           "with /usr/bin/python3 tools/reference/ops.py";
  }

  // A fresh copy of a stored float tensor that requires grad (gradients never touch the file's).
  static Tensor input(const std::string& name) {
    Tensor t = golden_->tensor(name).clone();
    t.set_requires_grad(true);
    return t;
  }
  static Tensor stored(const std::string& name) { return golden_->tensor(name); }
  static IntTensor stored_int(const std::string& name) { return golden_->int_tensor(name); }

  // Runs `op` on the case's float inputs (named "<name>.<input>"), compares "<name>.out",
  // backpropagates r ("<name>.r") and compares every "<name>.d<input>".
  // Returns the output for further checks.
  static Tensor check_case(const std::string& name, const std::vector<std::string>& input_names,
                           const std::function<Tensor(const std::vector<Tensor>&)>& op) {
    std::vector<Tensor> inputs;
    for (const std::string& input_name : input_names) inputs.push_back(input(name + "." + input_name));
    Tensor out = op(inputs);
    test::expect_close(out, stored(name + ".out"), kOutputRtol, kOutputAtol, name + ".out");
    out.backward(stored(name + ".r"));
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string grad_name = name + ".d" + input_names[i];
      EXPECT_TRUE(inputs[i].grad().defined()) << grad_name << ": no gradient reached the input";
      if (inputs[i].grad().defined())
        test::expect_close(inputs[i].grad(), stored(grad_name), kGradRtol, kGradAtol, grad_name);
    }
    return out.detach();
  }

  static void expect_equal_ints(const IntTensor& actual, const IntTensor& expected, const std::string& what) {
    ASSERT_EQ(actual.shape(), expected.shape()) << what;
    int64_t bad = 0;
    for (int64_t i = 0; i < actual.numel(); ++i) bad += actual.data()[i] != expected.data()[i];
    EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << actual.numel() << " differ";
  }

  static SafetensorsContents* golden_;
};

SafetensorsContents* GoldenOps::golden_ = nullptr;

}  // namespace

TEST_F(GoldenOps, Conv2d) {
  auto conv = [](Conv2dParams p) {
    return [p](const std::vector<Tensor>& in) {
      return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), p);
    };
  };
  check_case("conv2d_stride2", {"x", "w", "b"}, conv({.stride = 2, .pad = 1}));
  check_case("conv2d_dilation2", {"x", "w", "b"}, conv({.pad = 2, .dilation = 2}));
  check_case("conv2d_groups2", {"x", "w", "b"}, conv({.pad = 1, .groups = 2}));
  check_case("conv2d_depthwise", {"x", "w"}, conv({.stride = 2, .pad = 2, .dilation = 2, .groups = 3}));
  // PyTorch: F.pad(x, (1, 2, 1, 2)) then an unpadded conv = pad 1 plus one more row/col at the end.
  check_case("conv2d_asymmetric", {"x", "w", "b"}, conv({.stride = 2, .pad = 1, .pad_end_extra = 1}));
  check_case("conv2d_pointwise", {"x", "w", "b"}, conv({}));
  check_case("conv2d_depthwise_stride1", {"x", "w", "b"}, conv({.pad = 1, .groups = 4}));
}

TEST_F(GoldenOps, ConvTranspose2d) {
  auto deconv = [](ConvTranspose2dParams p) {
    return [p](const std::vector<Tensor>& in) {
      return conv_transpose2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), p);
    };
  };
  check_case("deconv_output_pad", {"x", "w", "b"}, deconv({.stride = 2, .pad = 1, .output_pad = 1}));
  check_case("deconv_groups2", {"x", "w", "b"}, deconv({.stride = 2, .pad = 1, .groups = 2}));
  check_case("deconv_dilation2", {"x", "w"}, deconv({.stride = 1, .pad = 1, .dilation = 2}));
  check_case("deconv_depthwise", {"x", "w"}, deconv({.stride = 2, .pad = 1, .groups = 3}));
}

TEST_F(GoldenOps, ResizeBilinear) {
  check_case("resize_size_corners", {"x"}, [](const auto& in) { return resize_bilinear(in[0], 7, 9, true); });
  check_case("resize_size", {"x"}, [](const auto& in) { return resize_bilinear(in[0], 7, 9, false); });
  check_case("resize_down", {"x"}, [](const auto& in) { return resize_bilinear(in[0], 4, 5, false); });
  check_case("resize_scale", {"x"}, [](const auto& in) { return resize_bilinear_scale(in[0], 1.5f, false); });
  check_case("resize_scale_corners", {"x"},
             [](const auto& in) { return resize_bilinear_scale(in[0], 1.5f, true); });
}

TEST_F(GoldenOps, MaxPoolWithIndices) {
  for (auto [name, params] :
       {std::pair{"maxpool_pad", Pool2dParams{.kernel = 3, .stride = 2, .pad = 1}},
        std::pair{"maxpool_ceil", Pool2dParams{.kernel = 3, .stride = 2, .ceil_mode = true}}}) {
    std::string case_name = name;
    check_case(case_name, {"x"}, [params](const auto& in) { return max_pool2d(in[0], params); });
    MaxPoolResult result = max_pool2d_with_indices(stored(case_name + ".x"), params);
    test::expect_close(result.out, stored(case_name + ".out"), kOutputRtol, kOutputAtol,
                       case_name + " (with indices)");
    expect_equal_ints(result.indices, stored_int(case_name + ".indices"), case_name + ".indices");
  }
}

TEST_F(GoldenOps, AvgPool) {
  check_case("avgpool_include_pad", {"x"}, [](const auto& in) {
    return avg_pool2d(in[0], {.kernel = 3, .stride = 2, .pad = 1, .count_include_pad = true});
  });
  check_case("avgpool_exclude_pad", {"x"}, [](const auto& in) {
    return avg_pool2d(in[0], {.kernel = 3, .stride = 2, .pad = 1, .count_include_pad = false});
  });
  check_case("avgpool_ceil", {"x"}, [](const auto& in) {
    return avg_pool2d(in[0],
                      {.kernel = 3, .stride = 2, .pad = 1, .ceil_mode = true, .count_include_pad = true});
  });
}

TEST_F(GoldenOps, AdaptiveAndGlobalAvgPool) {
  check_case("adaptive_8_to_6", {"x"}, [](const auto& in) { return adaptive_avg_pool2d(in[0], 6, 6); });
  check_case("adaptive_2_to_3", {"x"}, [](const auto& in) { return adaptive_avg_pool2d(in[0], 3, 3); });
  check_case("adaptive_33_to_6", {"x"}, [](const auto& in) { return adaptive_avg_pool2d(in[0], 6, 6); });
  check_case("global_avg_pool", {"x"}, [](const auto& in) { return global_avg_pool(in[0]); });
}

TEST_F(GoldenOps, MaxUnpool) {
  IntTensor indices = stored_int("max_unpool.indices");
  check_case("max_unpool", {"x"}, [indices](const auto& in) { return max_unpool2d(in[0], indices, 6, 8); });
}

TEST_F(GoldenOps, BatchNorm) {
  for (auto [name, training] :
       {std::pair{"bn_train", true}, std::pair{"bn_eval", false}, std::pair{"bn_train_nc", true}}) {
    std::string case_name = name;
    Tensor running_mean = stored(case_name + ".running_mean").clone();
    Tensor running_var = stored(case_name + ".running_var").clone();
    bool is_training = training;
    check_case(case_name, {"x", "gamma", "beta"}, [&](const std::vector<Tensor>& in) {
      return batch_norm(in[0], in[1], in[2], running_mean, running_var,
                        {.training = is_training, .momentum = 0.1f, .eps = 1e-5f});
    });
    test::expect_close(running_mean, stored(case_name + ".running_mean_after"), kOutputRtol, kOutputAtol,
                       case_name + ".running_mean_after");
    test::expect_close(running_var, stored(case_name + ".running_var_after"), kOutputRtol, kOutputAtol,
                       case_name + ".running_var_after");
  }
}

TEST_F(GoldenOps, ActivationsAndSoftmax) {
  check_case("relu", {"x"}, [](const auto& in) { return relu(in[0]); });
  check_case("sigmoid", {"x"}, [](const auto& in) { return sigmoid(in[0]); });
  check_case("tanh", {"x"}, [](const auto& in) { return pg::tanh(in[0]); });
  check_case("leaky_relu", {"x"}, [](const auto& in) { return leaky_relu(in[0], 0.2f); });
  check_case("softmax", {"x"}, [](const auto& in) { return softmax(in[0], 1); });
  check_case("log_softmax", {"x"}, [](const auto& in) { return log_softmax(in[0], 1); });
  check_case("softmax_width", {"x"}, [](const auto& in) { return softmax(in[0], 3); });
  check_case("log_softmax_height", {"x"}, [](const auto& in) { return log_softmax(in[0], -2); });
}

TEST_F(GoldenOps, CrossEntropy) {
  Tensor weights = stored("class_weights");
  struct Case {
    const char* name;
    bool weighted;
    Reduction reduction;
  };
  for (Case c : {Case{"ce_mean", false, Reduction::mean}, Case{"ce_mean_weighted", true, Reduction::mean},
                 Case{"ce_sum_weighted", true, Reduction::sum}, Case{"ce_vectors", false, Reduction::mean}}) {
    std::string name = c.name;
    IntTensor target = stored_int(name + ".target");
    CrossEntropyParams params{
        .ignore_index = 255, .reduction = c.reduction, .class_weights = c.weighted ? weights : Tensor()};
    check_case(name, {"logits"}, [&](const auto& in) { return cross_entropy(in[0], target, params); });
  }
}

TEST_F(GoldenOps, ArithmeticAndReductions) {
  check_case("add", {"a", "b"}, [](const auto& in) { return add(in[0], in[1]); });
  check_case("sub", {"a", "b"}, [](const auto& in) { return sub(in[0], in[1]); });
  check_case("mul", {"a", "b"}, [](const auto& in) { return mul(in[0], in[1]); });
  check_case("scale", {"x"}, [](const auto& in) { return scale(in[0], -2.5f); });
  check_case("add_scalar", {"x"}, [](const auto& in) { return add_scalar(in[0], 0.75f); });
  check_case("maximum", {"a", "b", "c"}, [](const auto& in) { return maximum({in[0], in[1], in[2]}); });
  check_case("sum", {"x"}, [](const auto& in) { return pg::sum(in[0]); });
  check_case("mean", {"x"}, [](const auto& in) { return pg::mean(in[0]); });
  check_case("sum_of", {"a", "b", "c"}, [](const auto& in) { return sum_of({in[0], in[1], in[2]}); });
}

TEST_F(GoldenOps, ShapeOps) {
  check_case("concat_channels", {"a", "b"}, [](const auto& in) { return concat({in[0], in[1]}, 1); });
  check_case("concat_width", {"a", "b"}, [](const auto& in) { return concat({in[0], in[1]}, 3); });
  check_case("slice_channels", {"x"}, [](const auto& in) { return slice(in[0], 1, 1, 4); });
  check_case("slice_width", {"x"}, [](const auto& in) { return slice(in[0], 3, 2, 5); });
  check_case("crop2d", {"x"}, [](const auto& in) { return crop2d(in[0], 1, 2, 3, 4); });
  check_case("pad2d", {"x"},
             [](const auto& in) { return pad2d(in[0], 1, 2, 0, 3); });  // top, bottom, left, right
}

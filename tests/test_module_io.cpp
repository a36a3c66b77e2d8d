// A module's weights through a safetensors file: save a net's state_dict, load it into a
// differently initialised twin, and get the same outputs; mismatched nets fail clearly and
// change nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "core/autograd.h"
#include "core/safetensors.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/relu.h"
#include "layers/sequential.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

std::shared_ptr<Sequential> small_net(int64_t hidden, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::shared_ptr<Module>> layers;
  layers.push_back(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 3, .out_channels = hidden, .pad = 1}, rng));
  layers.push_back(std::make_shared<BatchNorm2d>(hidden));
  layers.push_back(std::make_shared<ReLU>());
  layers.push_back(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = hidden, .out_channels = 2, .kernel = 1}, rng));
  return std::make_shared<Sequential>(layers);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pixelgrad_test_module_io_" + name)).string();
}

}  // namespace

TEST(ModuleIo, StateDictRoundTripGivesIdenticalOutputs) {
  auto trained = small_net(4, 1);
  Rng rng(5);
  Tensor x = test::random_tensor({2, 3, 6, 6}, rng);
  trained->forward(x);  // one training-mode pass moves the BN running statistics off their init
  trained->eval();
  Tensor expected = trained->forward(x);

  const std::string path = temp_path("roundtrip.safetensors");
  save_safetensors(path, trained->state_dict(), {{"arch", "small_net"}});
  auto restored = small_net(4, 99);  // other random weights
  restored->eval();
  SafetensorsContents file = load_safetensors(path);
  EXPECT_EQ(file.metadata.at("arch"), "small_net");
  EXPECT_EQ(file.tensors.size(), trained->state_dict().size());  // 2 convs × 2 + BN 2 params + 2 buffers
  load_named_tensors(restored->state_dict(), file);
  test::expect_close(restored->forward(x), expected, 0.0f, 0.0f, "restored net output");
  std::filesystem::remove(path);
}

TEST(ModuleIo, LoadingIntoAMismatchedNetFailsAndChangesNothing) {
  const std::string path = temp_path("mismatch.safetensors");
  save_safetensors(path, small_net(4, 1)->state_dict());
  auto wider = small_net(5, 2);
  std::vector<float> before = wider->state_dict().front().second.to_vector();
  test::expect_error_containing([&] { load_named_tensors(wider->state_dict(), load_safetensors(path)); },
                                "0.weight");
  EXPECT_EQ(wider->state_dict().front().second.to_vector(), before);
  std::filesystem::remove(path);
}

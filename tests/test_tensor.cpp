// Tensor basics: factories, shapes, zero-size tensors, views sharing storage, detach, alignment,
// errors; IntTensor; Rng bounds.
#include <gtest/gtest.h>

#include <cstdint>

#include "core/autograd.h"
#include "core/rng.h"
#include "core/tensor.h"

using namespace pg;

TEST(Tensor, FactoriesAndShape) {
  Tensor t = Tensor::full({2, 3, 4, 5}, 1.5f);
  EXPECT_EQ(t.numel(), 120);
  EXPECT_EQ(t.dim(), 4);
  EXPECT_EQ(t.size(1), 3);
  EXPECT_EQ(t.size(-1), 5);
  EXPECT_EQ(t.data()[119], 1.5f);
  EXPECT_EQ(shape_str(t.shape()), "(2, 3, 4, 5)");
  EXPECT_EQ(Tensor::scalar(3.0f).item(), 3.0f);
  EXPECT_EQ(Tensor::scalar(3.0f).dim(), 0);
  EXPECT_FALSE(Tensor().defined());
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_THROW(t.size(4), Error);
  EXPECT_THROW(Tensor::from_vector({2, 2}, {1, 2, 3}), Error);
}

TEST(Tensor, StorageIs64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u) << n;
  }
}

TEST(Tensor, ReshapeIsAViewThatSharesData) {
  Tensor t = Tensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor v = t.reshape({3, -1});
  EXPECT_EQ(v.shape(), (Shape{3, 2}));
  v.data()[0] = 42.0f;
  EXPECT_EQ(t.data()[0], 42.0f);
  EXPECT_THROW(t.reshape({4, -1}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
  EXPECT_THROW(t.reshape({7}), Error);
}

TEST(Tensor, CloneCopiesDetachShares) {
  Tensor t = Tensor::from_vector({2}, {1, 2});
  Tensor c = t.clone();
  Tensor d = t.detach();
  t.data()[0] = 9.0f;
  EXPECT_EQ(c.data()[0], 1.0f);
  EXPECT_EQ(d.data()[0], 9.0f);
}

TEST(Tensor, ShapeCheckMessagesNameOpAndShapes) {
  try {
    check_shape("conv2d", "bias", {3}, {4});
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("conv2d"), std::string::npos) << m;
    EXPECT_NE(m.find("(4,)"), std::string::npos) << m;
    EXPECT_NE(m.find("(3,)"), std::string::npos) << m;
  }
}

TEST(IntTensor, Basics) {
  IntTensor labels({2, 4, 4}, 255);
  EXPECT_EQ(labels.numel(), 32);
  EXPECT_EQ(labels.data()[31], 255);
  IntTensor copy = labels;  // a handle: shares values
  copy.data()[0] = 3;
  EXPECT_EQ(labels.data()[0], 3);
  EXPECT_THROW(IntTensor::from_vector({2}, {1}), Error);
}

TEST(Tensor, ZeroSizeTensorsAndNegativeShapes) {
  Tensor t = Tensor::zeros({0, 3});
  EXPECT_EQ(t.numel(), 0);
  EXPECT_EQ(t.reshape({-1, 3}).shape(), (Shape{0, 3}));
  EXPECT_TRUE(t.clone().to_vector().empty());
  EXPECT_THROW(Tensor::zeros({2, -1}), Error);
  EXPECT_EQ(IntTensor::from_vector({0, 4}, {}).numel(), 0);
  // Checked before the values are allocated (a negative count used to escape as std::length_error).
  EXPECT_THROW(IntTensor({-1, 2}), Error);
}

TEST(Tensor, ReshapeOfATensorThatRequiresGradIsANonLeafView) {
  Tensor x = Tensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5});
  x.set_requires_grad(true);
  Tensor v = x.reshape({6});
  EXPECT_TRUE(v.requires_grad());
  EXPECT_FALSE(v.is_leaf());
  EXPECT_EQ(v.grad_fn()->op, "reshape");
  EXPECT_EQ(v.data(), x.data());
  Tensor d = v.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.data(), x.data());
}

TEST(Rng, BelowNeedsAPositiveBound) {
  Rng rng(5);
  for (int i = 0; i < 100; ++i) {
    int64_t k = rng.below(3);
    EXPECT_TRUE(k >= 0 && k < 3) << k;
  }
  EXPECT_THROW(rng.below(0), Error);  // used to divide by zero
}

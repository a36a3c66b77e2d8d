// Tensor: a float32, row-major (NCHW), contiguous array held by a shared handle, plus the
// autograd fields (grad, requires_grad, grad_fn). IntTensor: the int32 twin used for label maps
// and max-pool indices. Copying a Tensor copies the handle, never the data.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace pg {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& shape);  // "(8, 3, 64, 64)"
int64_t shape_numel(const Shape& shape);

struct Node;  // core/autograd.h

// A 64-byte aligned block of floats, shared between a tensor and its views.
struct Storage {
  explicit Storage(int64_t count);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data = nullptr;
  int64_t count = 0;
};

struct TensorImpl {
  Shape shape;
  std::shared_ptr<Storage> storage;
  std::shared_ptr<TensorImpl> grad;  // same shape; null until a backward writes it
  std::shared_ptr<Node> grad_fn;     // the op that made this tensor; null for leaves
  bool requires_grad = false;
  bool retains_grad = false;  // keep .grad of a non-leaf after backward (PyTorch's retain_grad)
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (e.g. "no bias"); defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Factories. empty() leaves the values uninitialised.
  static Tensor empty(const Shape& shape);
  static Tensor zeros(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values);
  static Tensor scalar(float value);  // shape ()

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  float* data() const;  // the handle is shared: constness of the handle does not freeze the data
  float item() const;   // the value of a one-element tensor
  std::vector<float> to_vector() const;

  // Autograd.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on);  // only on leaves
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reached this tensor
  void zero_grad();     // drops the gradient (the next backward starts from zero)
  void retain_grad();   // keep this non-leaf's gradient after backward
  const std::shared_ptr<Node>& grad_fn() const;
  // Reverse-mode sweep from this tensor. A scalar seeds itself with 1; any other shape needs
  // an explicit seed of its own shape. retain_graph = false frees the saved buffers, and a second
  // backward through the same graph is then an error, as in PyTorch.
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& seed, bool retain_graph = false) const;

  Tensor detach() const;  // same data, no history, requires_grad false
  Tensor clone() const;   // a copy of the data, no history

  // A view with another shape over the same data (one dimension may be -1). Differentiable.
  Tensor reshape(const Shape& shape) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  void require_defined(const char* what) const;
  std::shared_ptr<TensorImpl> impl_;
};

// An int32 array with a shape, shared by handle: label maps (N,H,W) with 255 = ignore, and
// max-pool argmax indices (N,C,H,W) holding flat positions within each H×W plane.
class IntTensor {
 public:
  IntTensor() = default;
  explicit IntTensor(const Shape& shape, int32_t fill = 0);
  static IntTensor from_vector(const Shape& shape, const std::vector<int32_t>& values);

  bool defined() const { return values_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return shape_numel(shape_); }
  int32_t* data() const { return values_->data(); }

 private:
  Shape shape_;
  std::shared_ptr<std::vector<int32_t>> values_;
};

using LabelMap = IntTensor;  // (N, H, W) class indices, 255 = ignore

// Tensors by dotted name ("backbone.layer1.0.conv1.weight"), in a fixed order.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Shape checks shared by every op: the message names the op and both shapes.
void check_shape(const char* op, const char* what, const Shape& got, const Shape& expected);
void check_dim(const char* op, const char* what, const Tensor& t, int64_t dims);  // e.g. 4 for NCHW
// The sizes the CPU kernels can index with int: every dimension in [1, 2^31), and the H×W plane
// (the last two dimensions, flat pool indices run over it) below 2^31 too.
void check_kernel_sizes(const char* op, const char* what, const Tensor& t);

}  // namespace pg

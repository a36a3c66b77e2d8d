// Tensor storage, factories, shape helpers and views. The autograd sweep is in autograd.cpp.
#include "core/tensor.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/autograd.h"
#include "core/storage_cache.h"

namespace pg {

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// The floats come from the storage cache (core/storage_cache.h): a training step's activations
// reuse the blocks the previous step freed.
Storage::Storage(int64_t float_count)
    : data(storage_allocate(static_cast<size_t>(float_count) * sizeof(float))), count(float_count) {}

Storage::~Storage() {
  storage_release(data, static_cast<size_t>(count) * sizeof(float));
}

static std::shared_ptr<TensorImpl> new_impl(const Shape& shape) {
  for (int64_t d : shape) check(d >= 0, "Tensor: negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = std::make_shared<Storage>(shape_numel(shape));
  return impl;
}

Tensor Tensor::empty(const Shape& shape) {
  return Tensor(new_impl(shape));
}

Tensor Tensor::zeros(const Shape& shape) {
  return full(shape, 0.0f);
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values) {
  check(static_cast<int64_t>(values.size()) == shape_numel(shape), "Tensor::from_vector: shape ",
        shape_str(shape), " needs ", shape_numel(shape), " values, got ", values.size());
  Tensor t = empty(shape);
  if (!values.empty()) std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::scalar(float value) {
  return full({}, value);
}

void Tensor::require_defined(const char* what) const {
  check(impl_ != nullptr, "Tensor::", what, ": the tensor is undefined (default-constructed)");
}

const Shape& Tensor::shape() const {
  require_defined("shape");
  return impl_->shape;
}

int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  check(d >= -n && d < n, "Tensor::size: dimension ", d, " out of range for shape ", shape_str(shape()));
  return shape()[d < 0 ? d + n : d];
}

int64_t Tensor::numel() const {
  return shape_numel(shape());
}

float* Tensor::data() const {
  require_defined("data");
  return impl_->storage->data;
}

float Tensor::item() const {
  check(numel() == 1, "Tensor::item: needs one element, shape is ", shape_str(shape()));
  return data()[0];
}

std::vector<float> Tensor::to_vector() const {
  return std::vector<float>(data(), data() + numel());
}

bool Tensor::requires_grad() const {
  return impl_ && impl_->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool on) {
  require_defined("set_requires_grad");
  check(is_leaf(),
        "Tensor::set_requires_grad: only leaf tensors can change requires_grad; this one comes from ",
        is_leaf() ? "" : impl_->grad_fn->op);
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const {
  return impl_ && impl_->grad_fn == nullptr;
}

Tensor Tensor::grad() const {
  require_defined("grad");
  return Tensor(impl_->grad);
}

void Tensor::zero_grad() {
  require_defined("zero_grad");
  impl_->grad.reset();
}

void Tensor::retain_grad() {
  require_defined("retain_grad");
  impl_->retains_grad = true;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  require_defined("grad_fn");
  return impl_->grad_fn;
}

Tensor Tensor::detach() const {
  require_defined("detach");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = impl_->shape;
  impl->storage = impl_->storage;
  return Tensor(impl);
}

Tensor Tensor::clone() const {
  Tensor copy = empty(shape());
  std::memcpy(copy.data(), data(), numel() * sizeof(float));
  return copy;
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  require_defined("reshape");
  Shape resolved = new_shape;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      check(infer_at < 0, "reshape: only one dimension may be -1, got ", shape_str(new_shape));
      infer_at = static_cast<int64_t>(i);
    } else {
      known *= resolved[i];
    }
  }
  if (infer_at >= 0) {
    check(known > 0 && numel() % known == 0, "reshape: cannot view ", shape_str(shape()), " as ",
          shape_str(new_shape));
    resolved[infer_at] = numel() / known;
  }
  check(shape_numel(resolved) == numel(), "reshape: cannot view ", shape_str(shape()), " (", numel(),
        " elements) as ", shape_str(new_shape));
  Tensor view = detach();
  view.impl()->shape = resolved;
  record(view, "reshape", {*this}, [input = *this](const Tensor& dout) {
    // The gradient of a view is the output gradient read with the input's shape.
    float* dx = grad_accumulator(input);
    if (!dx) return;
    const float* dy = dout.data();
    const int64_t count = dout.numel();
    for (int64_t i = 0; i < count; ++i) dx[i] += dy[i];
  });
  return view;
}

// The shape is checked before the vector is sized: a negative count would become a huge size_t.
static int64_t checked_int_numel(const Shape& shape) {
  for (int64_t d : shape) check(d >= 0, "IntTensor: negative dimension in shape ", shape_str(shape));
  return shape_numel(shape);
}

IntTensor::IntTensor(const Shape& shape, int32_t fill)
    : shape_(shape), values_(std::make_shared<std::vector<int32_t>>(checked_int_numel(shape), fill)) {}

IntTensor IntTensor::from_vector(const Shape& shape, const std::vector<int32_t>& values) {
  check(static_cast<int64_t>(values.size()) == shape_numel(shape), "IntTensor::from_vector: shape ",
        shape_str(shape), " needs ", shape_numel(shape), " values, got ", values.size());
  IntTensor t(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

int64_t IntTensor::size(int64_t d) const {
  int64_t n = dim();
  check(d >= -n && d < n, "IntTensor::size: dimension ", d, " out of range for shape ", shape_str(shape_));
  return shape_[d < 0 ? d + n : d];
}

void check_shape(const char* op, const char* what, const Shape& got, const Shape& expected) {
  check(got == expected, op, ": ", what, " must have shape ", shape_str(expected), ", got ", shape_str(got));
}

void check_dim(const char* op, const char* what, const Tensor& t, int64_t dims) {
  check(t.defined(), op, ": ", what, " is undefined");
  check(t.dim() == dims, op, ": ", what, " must be ", dims, "-D, got shape ", shape_str(t.shape()));
}

void check_kernel_sizes(const char* op, const char* what, const Tensor& t) {
  constexpr int64_t kLimit = INT32_MAX;
  for (int64_t d = 0; d < t.dim(); ++d)
    check(t.size(d) >= 1 && t.size(d) <= kLimit, op, ": ", what, " must have every size in [1, 2^31), got ",
          shape_str(t.shape()));
  if (t.dim() >= 2)
    check(t.size(-2) * t.size(-1) <= kLimit, op, ": ", what, " has a ", t.size(-2), "×", t.size(-1),
          " plane, too large for int32 indices");
}

}  // namespace pg

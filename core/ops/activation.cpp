// Element-wise activations, forward and backward:
//   relu:       y = max(x, 0),                dx = dy · [x > 0]   (0 at the kink x = 0)
//   leaky_relu: y = x (x > 0) or slope·x,     dx = dy · (1 or slope)
//   sigmoid:    y = 1 / (1 + e^−x),           dx = dy · y · (1 − y)
//   tanh:       y = tanh x,                   dx = dy · (1 − y²)
// sigmoid and tanh differentiate from their output, so the backward keeps y (detached).
#include "core/ops/activation.h"

#include "core/autograd.h"
#include "kernels/cpu/elementwise.h"

namespace pg {

namespace {
void check_input(const char* op, const Tensor& x) {
  check(x.defined(), op, ": the input is undefined");
}
}  // namespace

Tensor relu(const Tensor& x) {
  check_input("relu", x);
  Tensor y = Tensor::empty(x.shape());  // x, y, dy: any shape, same
  kernels::relu_forward(x.data(), y.data(), x.numel());
  record(y, "relu", {x}, [x](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::relu_backward(x.data(), dy.data(), dx, x.numel());
  });
  return y;
}

Tensor leaky_relu(const Tensor& x, float negative_slope) {
  check_input("leaky_relu", x);
  Tensor y = Tensor::empty(x.shape());
  kernels::leaky_relu_forward(x.data(), y.data(), x.numel(), negative_slope);
  record(y, "leaky_relu", {x}, [x, negative_slope](const Tensor& dy) {
    if (float* dx = grad_accumulator(x))
      kernels::leaky_relu_backward(x.data(), dy.data(), dx, x.numel(), negative_slope);
  });
  return y;
}

Tensor sigmoid(const Tensor& x) {
  check_input("sigmoid", x);
  Tensor y = Tensor::empty(x.shape());
  kernels::sigmoid_forward(x.data(), y.data(), x.numel());
  record(y, "sigmoid", {x}, [x, output = y.detach()](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::sigmoid_backward(output.data(), dy.data(), dx, x.numel());
  });
  return y;
}

Tensor tanh(const Tensor& x) {
  check_input("tanh", x);
  Tensor y = Tensor::empty(x.shape());
  kernels::tanh_forward(x.data(), y.data(), x.numel());
  record(y, "tanh", {x}, [x, output = y.detach()](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::tanh_backward(output.data(), dy.data(), dx, x.numel());
  });
  return y;
}

}  // namespace pg

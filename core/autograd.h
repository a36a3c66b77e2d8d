// Define-by-run reverse-mode autograd. Every differentiable op, after computing its output,
// calls record(): if grad mode is on and an input requires grad, the output gets a Node that
// holds the inputs and a backward closure. Tensor::backward() sorts the nodes topologically
// once and runs the closures in reverse. Backward closures ACCUMULATE into the inputs' grads.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg {

struct Node {
  std::string op;              // "conv2d", "relu", ...: shown in errors and DOT graphs
  std::vector<Tensor> inputs;  // every tensor input of the op (the graph's edges)
  // Receives the gradient of the op's output (same shape as the output) and adds the
  // gradients of the inputs into their .grad through grad_accumulator().
  std::function<void(const Tensor& dout)> backward;
  bool released = false;  // backward ran without retain_graph: saved buffers are gone

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Unlinks the chain of nodes below this one iteratively: destroying a graph thousands of ops
  // deep one node inside another would overflow the call stack.
  ~Node();
};

// Grad mode is per thread, on by default; NoGradGuard switches it off for a scope.
bool grad_mode_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when an op on these inputs must record a node (grad mode on, one input requires grad).
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `output` when any_requires_grad(inputs). The closure must not capture
// `output` itself (that would be a reference cycle): capture output.detach() if it needs it.
void record(Tensor& output, const char* op, std::vector<Tensor> inputs,
            std::function<void(const Tensor& dout)> backward);

// The gradient buffer of t, allocated and zero-filled on first use, for a backward to add into.
// Returns nullptr when t does not require grad (nothing to accumulate): an undefined optional
// input, an input that never required grad, or a leaf switched off since the op ran. Every
// backward skips an input whose accumulator is null.
float* grad_accumulator(const Tensor& t);

// Graphviz DOT of the graph that produced `root` (ops as boxes, leaves as ellipses).
std::string graph_to_dot(const Tensor& root);

}  // namespace pg

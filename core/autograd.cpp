// The autograd engine: recording nodes, the topological sort and the reverse sweep, grad mode,
// and the DOT dump. Each op's own derivative lives beside its forward in core/ops/.
#include "core/autograd.h"

#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/op_profiler.h"

namespace pg {

static thread_local bool grad_mode = true;

bool grad_mode_enabled() {
  return grad_mode;
}

NoGradGuard::NoGradGuard() : previous_(grad_mode) {
  grad_mode = false;
}
NoGradGuard::~NoGradGuard() {
  grad_mode = previous_;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(Tensor& output, const char* op, std::vector<Tensor> inputs,
            std::function<void(const Tensor& dout)> backward) {
  if (OpProfiler* profiler = OpProfiler::active()) profiler->forward_op_returned(op);
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
}

// Dropping a node drops its inputs, whose nodes drop their inputs, and so on: a recursion as deep
// as the graph. Instead the inputs go on a work list; before the last handle to a tensor dies,
// its node's inputs are moved onto the list too, so that node dies empty and nothing recurses.
Node::~Node() {
  backward = nullptr;  // the closure's copies of the inputs go first, so the counts below are exact
  std::vector<Tensor> pending = std::move(inputs);
  while (!pending.empty()) {
    Tensor tensor = std::move(pending.back());
    pending.pop_back();
    TensorImpl* impl = tensor.impl();
    if (impl && tensor.impl_ptr().use_count() == 1 && impl->grad_fn && impl->grad_fn.use_count() == 1) {
      Node& node = *impl->grad_fn;  // dies with `tensor`, below
      node.backward = nullptr;
      for (Tensor& input : node.inputs) pending.push_back(std::move(input));
      node.inputs.clear();
    }
  }  // `tensor` dies at the end of each pass; its node, emptied, frees nothing further
}

float* grad_accumulator(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  TensorImpl* impl = t.impl();
  if (!impl->grad) impl->grad = Tensor::zeros(impl->shape).impl_ptr();
  return impl->grad->storage->data;
}

// Post-order depth-first walk: every tensor appears after all the tensors it was made from.
// Holds shared handles: releasing a node during the sweep must not free tensors still to visit.
static std::vector<std::shared_ptr<TensorImpl>> topological_order(const std::shared_ptr<TensorImpl>& root) {
  std::vector<std::shared_ptr<TensorImpl>> order;
  std::unordered_set<TensorImpl*> seen;
  // An explicit stack (not recursion): deep nets would overflow the call stack.
  std::vector<std::pair<std::shared_ptr<TensorImpl>, size_t>> stack{{root, 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& [t, next_input] = stack.back();
    const Node* node = t->grad_fn.get();
    if (node && next_input < node->inputs.size()) {
      const std::shared_ptr<TensorImpl>& in = node->inputs[next_input++].impl_ptr();
      if (in && in->requires_grad && seen.insert(in.get()).second) stack.push_back({in, 0});
    } else {
      order.push_back(t);
      stack.pop_back();
    }
  }
  return order;
}

void Tensor::backward(bool retain_graph) const {
  check(defined() && numel() == 1, "backward: called without a seed on a tensor of shape ",
        defined() ? shape_str(shape()) : "(undefined)", "; only a one-element tensor seeds itself with 1");
  backward(Tensor::full(shape(), 1.0f), retain_graph);
}

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
  require_defined("backward");
  check(requires_grad(),
        "backward: this tensor does not require grad (no input of its graph has "
        "requires_grad set, or it was computed under NoGradGuard)");
  check_shape("backward", "the seed gradient", seed.shape(), shape());

  // Leaves accumulate across calls; the gradients of intermediate tensors are this sweep's
  // own, so they start from zero (a retained one shows the last backward's value).
  std::vector<std::shared_ptr<TensorImpl>> order = topological_order(impl_ptr());
  for (auto& t : order)
    if (t->grad_fn) t->grad.reset();
  float* root_grad = grad_accumulator(*this);
  const float* seed_values = seed.data();
  const int64_t count = numel();
  for (int64_t i = 0; i < count; ++i) root_grad[i] += seed_values[i];

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* t = it->get();
    Node* node = t->grad_fn.get();
    if (!node || !t->grad) continue;  // a leaf, or no gradient flowed into this branch
    check(
        !node->released, "backward: trying to go through the graph a second time at op '", node->op,
        "': its saved buffers were freed by the first backward; pass retain_graph = true to the first call");
    if (OpProfiler* profiler = OpProfiler::active()) {
      const OpProfiler::Clock::time_point start = OpProfiler::Clock::now();
      node->backward(Tensor(t->grad));
      profiler->backward_ran(node->op, OpProfiler::Clock::now() - start);
    } else {
      node->backward(Tensor(t->grad));
    }
    if (!t->retains_grad) t->grad.reset();  // intermediate gradients are not kept
    if (!retain_graph) {
      node->backward = nullptr;  // frees what the closure saved
      node->inputs.clear();
      node->released = true;
    }
  }
}

std::string graph_to_dot(const Tensor& root) {
  check(root.defined(), "graph_to_dot: the tensor is undefined");
  std::ostringstream dot;
  dot << "digraph autograd {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
  std::unordered_map<TensorImpl*, int> ids;
  auto id_of = [&](TensorImpl* t) {
    auto [it, added] = ids.emplace(t, static_cast<int>(ids.size()));
    if (added) {
      const char* shape = t->grad_fn ? "box" : "ellipse";
      std::string label = t->grad_fn ? t->grad_fn->op + "\\n" + shape_str(t->shape) : shape_str(t->shape);
      dot << "  t" << it->second << " [shape=" << shape << ", label=\"" << label << "\"];\n";
    }
    return it->second;
  };
  for (const auto& handle : topological_order(root.impl_ptr())) {
    TensorImpl* t = handle.get();
    int to = id_of(t);
    if (!t->grad_fn) continue;
    for (const Tensor& in : t->grad_fn->inputs)
      if (in.defined() && in.requires_grad()) dot << "  t" << id_of(in.impl()) << " -> t" << to << ";\n";
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace pg

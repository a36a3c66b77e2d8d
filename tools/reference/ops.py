#!/usr/bin/python3
# The PyTorch twin of pixelgrad's ops: builds small seeded inputs for each op, runs PyTorch,
# and writes inputs, outputs, the random weights r and the gradients of L = Σ out ⊙ r to
# tests/golden/ops.safetensors, which tests/test_golden_ops.cpp reads back.
#   /usr/bin/python3 tools/reference/ops.py    (Debian's python3-torch; run from the repo root)
# Every case is computed in float64 from float32 inputs and stored as float32; labels and
# indices are int32. The file is written by hand (struct + json) so no `safetensors` package is
# needed. Case names and settings here must match the C++ test.
import sys

import numpy as np
import torch
import torch.nn.functional as F

from golden import write_safetensors

torch.manual_seed(20240601)
OUT = "tests/golden/ops.safetensors"
tensors = {}  # name → numpy array (float32 or int32), in insertion order


def rand(*shape, low=-1.0, high=1.0):
    return (torch.rand(tuple(shape), dtype=torch.float32) * (high - low) + low).double()


def store(name, t):
    assert name not in tensors, name
    if isinstance(t, torch.Tensor):
        t = t.detach()
        t = t.numpy().astype(np.int32 if t.dtype in (torch.int32, torch.int64) else np.float32)
    tensors[name] = t


def case(name, fn, inputs, grads=None, extra=None):
    """inputs: dict name → tensor (float64 inputs to differentiate, or int labels / indices).
    grads: the names of the inputs to differentiate (default: every float input).
    Stores <name>.<input>, <name>.out, <name>.r, <name>.d<input> for each differentiated input."""
    leaves = {}
    for key, t in inputs.items():
        if t.is_floating_point():
            t = t.clone().requires_grad_(True)
        leaves[key] = t
        store(f"{name}.{key}", t)
    out = fn(**leaves)
    r = rand(*out.shape)
    (out * r).sum().backward()
    store(f"{name}.out", out)
    store(f"{name}.r", r)
    for key in grads if grads is not None else [k for k, t in leaves.items() if t.is_floating_point()]:
        store(f"{name}.d{key}", leaves[key].grad)
    for key, t in (extra or {}).items():
        store(f"{name}.{key}", t)


# conv2d: stride 2, dilation 2, groups, depthwise, asymmetric padding (pad + pad_end_extra,
# which PyTorch writes as F.pad then an unpadded conv).
case("conv2d_stride2", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     dict(x=rand(2, 3, 7, 8), w=rand(4, 3, 3, 3), b=rand(4)))
case("conv2d_dilation2", lambda x, w, b: F.conv2d(x, w, b, padding=2, dilation=2),
     dict(x=rand(1, 3, 9, 8), w=rand(5, 3, 3, 3), b=rand(5)))
case("conv2d_groups2", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
     dict(x=rand(2, 4, 6, 7), w=rand(6, 2, 3, 3), b=rand(6)))
case("conv2d_depthwise", lambda x, w: F.conv2d(x, w, None, stride=2, padding=2, dilation=2, groups=3),
     dict(x=rand(2, 3, 9, 10), w=rand(3, 1, 3, 3)))
case("conv2d_asymmetric", lambda x, w, b: F.conv2d(F.pad(x, (1, 2, 1, 2)), w, b, stride=2),
     dict(x=rand(1, 2, 8, 7), w=rand(3, 2, 3, 3), b=rand(3)))

# conv_transpose2d: output padding, groups, dilation.
case("deconv_output_pad", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     dict(x=rand(2, 3, 4, 5), w=rand(3, 4, 3, 3), b=rand(4)))
case("deconv_groups2", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, groups=2),
     dict(x=rand(1, 4, 3, 4), w=rand(4, 3, 4, 4), b=rand(6)))
case("deconv_dilation2", lambda x, w: F.conv_transpose2d(x, w, None, stride=1, padding=1, dilation=2),
     dict(x=rand(1, 2, 5, 4), w=rand(2, 3, 3, 3)))

# Bilinear resize, both conventions, by size and by scale factor (with align_corners = false a
# scale factor gives ratio 1/scale, not in/out).
case("resize_size_corners", lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
     dict(x=rand(1, 2, 4, 5)))
case("resize_size", lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False),
     dict(x=rand(1, 2, 4, 5)))
case("resize_down", lambda x: F.interpolate(x, size=(4, 5), mode="bilinear", align_corners=False),
     dict(x=rand(1, 2, 9, 9)))
case("resize_scale", lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=False),
     dict(x=rand(1, 2, 3, 5)))
case("resize_scale_corners", lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
     dict(x=rand(1, 2, 3, 5)))

# Pooling.
def max_pool_case(name, x, **kw):
    _, indices = F.max_pool2d(x.clone(), return_indices=True, **kw)
    case(name, lambda x: F.max_pool2d(x, **kw), dict(x=x), extra=dict(indices=indices))

max_pool_case("maxpool_pad", rand(2, 3, 7, 7), kernel_size=3, stride=2, padding=1)
max_pool_case("maxpool_ceil", rand(1, 2, 7, 9), kernel_size=3, stride=2, ceil_mode=True)
case("avgpool_include_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True), dict(x=rand(2, 2, 7, 6)))
case("avgpool_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), dict(x=rand(2, 2, 7, 6)))
case("avgpool_ceil", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True), dict(x=rand(1, 2, 6, 8)))
case("adaptive_8_to_6", lambda x: F.adaptive_avg_pool2d(x, 6), dict(x=rand(1, 2, 8, 8)))
case("adaptive_2_to_3", lambda x: F.adaptive_avg_pool2d(x, 3), dict(x=rand(1, 2, 2, 2)))
case("adaptive_33_to_6", lambda x: F.adaptive_avg_pool2d(x, 6), dict(x=rand(1, 1, 33, 33)))
case("global_avg_pool", lambda x: F.adaptive_avg_pool2d(x, 1), dict(x=rand(2, 3, 4, 5)))
_, unpool_indices = F.max_pool2d(rand(1, 2, 6, 8), 2, 2, return_indices=True)
case("max_unpool", lambda x, indices: F.max_unpool2d(x, indices.long(), 2, 2, output_size=(6, 8)),
     dict(x=rand(1, 2, 3, 4), indices=unpool_indices.int()), grads=["x"])

# Batch norm: training (batch statistics; running statistics updated with the unbiased
# variance) and evaluation (running statistics), on NCHW and on (N, C).
def batch_norm_case(name, x, training):
    c = x.shape[1]
    running_mean, running_var = rand(c), rand(c, low=0.5, high=1.5)
    store(f"{name}.running_mean", running_mean)
    store(f"{name}.running_var", running_var)
    running_mean, running_var = running_mean.clone(), running_var.clone()
    case(name, lambda x, gamma, beta: F.batch_norm(x, running_mean, running_var, gamma, beta, training=training,
                                                   momentum=0.1, eps=1e-5),
         dict(x=x, gamma=rand(c, low=0.5, high=1.5), beta=rand(c)),
         extra=dict(running_mean_after=running_mean, running_var_after=running_var))

batch_norm_case("bn_train", rand(2, 3, 4, 5), True)
batch_norm_case("bn_eval", rand(2, 3, 4, 5), False)
batch_norm_case("bn_train_nc", rand(6, 4), True)

# Activations, softmax.
case("relu", lambda x: F.relu(x), dict(x=rand(2, 3, 4, 5)))
case("sigmoid", lambda x: torch.sigmoid(x), dict(x=rand(2, 3, 4, 5, low=-4, high=4)))
case("tanh", lambda x: torch.tanh(x), dict(x=rand(2, 3, 4, 5, low=-3, high=3)))
case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), dict(x=rand(2, 3, 4, 5)))
case("softmax", lambda x: F.softmax(x, dim=1), dict(x=rand(2, 4, 3, 3, low=-3, high=3)))
case("log_softmax", lambda x: F.log_softmax(x, dim=1), dict(x=rand(2, 4, 3, 3, low=-3, high=3)))

# Cross-entropy: ignore 255, class weights, mean over Σ w of valid pixels, or sum.
def labels(*shape, classes, ignored):
    t = torch.randint(0, classes, shape, dtype=torch.int32)
    t.view(-1)[torch.randperm(t.numel())[:ignored]] = 255
    return t

ce_target = labels(2, 3, 5, classes=4, ignored=5)
ce_weights = rand(4, low=0.2, high=2.0)
store("class_weights", ce_weights)
for name, weights, reduction in [("ce_mean", None, "mean"), ("ce_mean_weighted", ce_weights, "mean"),
                                 ("ce_sum_weighted", ce_weights, "sum")]:
    case(name, lambda logits, target: F.cross_entropy(logits, target.long(), weight=weights, ignore_index=255,
                                                      reduction=reduction),
         dict(logits=rand(2, 4, 3, 5, low=-2, high=2), target=ce_target), grads=["logits"])
case("ce_vectors", lambda logits, target: F.cross_entropy(logits, target.long(), ignore_index=255),
     dict(logits=rand(5, 3, low=-2, high=2), target=labels(5, classes=3, ignored=1)), grads=["logits"])

# Arithmetic and reductions.
case("add", lambda a, b: a + b, dict(a=rand(2, 3, 4), b=rand(2, 3, 4)))
case("sub", lambda a, b: a - b, dict(a=rand(2, 3, 4), b=rand(2, 3, 4)))
case("mul", lambda a, b: a * b, dict(a=rand(2, 3, 4), b=rand(2, 3, 4)))
case("scale", lambda x: x * -2.5, dict(x=rand(2, 3, 4)))
case("add_scalar", lambda x: x + 0.75, dict(x=rand(2, 3, 4)))
case("maximum", lambda a, b, c: torch.maximum(torch.maximum(a, b), c),
     dict(a=rand(2, 3, 4), b=rand(2, 3, 4), c=rand(2, 3, 4)))
case("sum", lambda x: torch.sum(x), dict(x=rand(2, 3, 4)))
case("mean", lambda x: torch.mean(x), dict(x=rand(2, 3, 4)))

# Shape ops.
case("concat_channels", lambda a, b: torch.cat([a, b], dim=1), dict(a=rand(1, 2, 3, 4), b=rand(1, 3, 3, 4)))
case("concat_width", lambda a, b: torch.cat([a, b], dim=3), dict(a=rand(2, 2, 3, 4), b=rand(2, 2, 3, 1)))
case("slice_channels", lambda x: x[:, 1:4], dict(x=rand(2, 5, 3, 4)))
case("crop2d", lambda x: x[:, :, 1:4, 2:6], dict(x=rand(1, 2, 6, 7)))
case("pad2d", lambda x: F.pad(x, (0, 3, 1, 2)), dict(x=rand(1, 2, 3, 4)))  # left, right, top, bottom


# Appended later, so that every draw above stays the same: the 1×1 conv (no im2col), depthwise
# at stride 1 (its backward-data is a correlation with the flipped kernel), the depthwise
# transposed conv, softmax over other dimensions, a width slice, and a sum of terms (ASPP v2).
case("conv2d_pointwise", lambda x, w, b: F.conv2d(x, w, b), dict(x=rand(2, 5, 6, 7), w=rand(4, 5, 1, 1), b=rand(4)))
case("conv2d_depthwise_stride1", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=4),
     dict(x=rand(2, 4, 7, 9), w=rand(4, 1, 3, 3), b=rand(4)))
case("deconv_depthwise", lambda x, w: F.conv_transpose2d(x, w, None, stride=2, padding=1, groups=3),
     dict(x=rand(1, 3, 4, 5), w=rand(3, 1, 4, 4)))
case("softmax_width", lambda x: F.softmax(x, dim=3), dict(x=rand(2, 3, 4, 5, low=-3, high=3)))
case("log_softmax_height", lambda x: F.log_softmax(x, dim=-2), dict(x=rand(2, 3, 4, 5, low=-3, high=3)))
case("slice_width", lambda x: x[..., 2:5], dict(x=rand(2, 3, 4, 6)))
case("sum_of", lambda a, b, c: a + b + c, dict(a=rand(2, 3, 4, 5), b=rand(2, 3, 4, 5), c=rand(2, 3, 4, 5)))


write_safetensors(OUT, tensors, {"generator": "tools/reference/ops.py", "torch": torch.__version__})
print(f"{OUT}: {len(tensors)} tensors", file=sys.stderr)

# Shared by the PyTorch twins under tools/reference/: writes safetensors by hand (struct + json,
# no `safetensors` package needed) and records one golden training step of a net, which
# tests/golden_net.h replays in C++.
#
# A net's golden file holds, for one batch (float32 on disk, computed in float64):
#   input (N,3,H,W), labels (N,H,W) int32       the batch (plus any multi-task labels given)
#   state.<name>                                 every parameter and buffer before the step
#   logits                                       net(input), in train mode
#   loss                                         training_loss(net, input, labels), after logits
#   grad.input, grad.<parameter name>            d loss / d input and every parameter
#   state_after.<buffer name>                    buffers after both calls (BN running statistics)
# Metadata: generator, torch version, reduction ("mean"/"sum").
import json
import struct

import numpy as np
import torch


def write_safetensors(path, named, metadata):
    """named: dict name → numpy array (float32 or int32), written in insertion order."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, array in named.items():
        blob = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}[array.dtype]
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad the header so the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def as_numpy(t):
    t = t.detach().cpu()
    return t.numpy().astype(np.int32 if t.dtype in (torch.int32, torch.int64) else np.float32)


def randomise_parameters(net, generator):
    """Draws every parameter at random (not the net's own init: a zero-initialised skip or a
    bilinear deconv would hide gradients). Batch-norm weights around 1, everything else small."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(".weight") and p.dim() == 1:  # batch norm γ
                p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) + 0.5)
            else:
                fan_in = p[0].numel() if p.dim() > 1 else 1
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) / max(fan_in, 1) ** 0.5)


def net_golden(path, net, images, labels, training_loss=None, extra=None, reduction="mean", generator_name=""):
    """Runs one golden step of `net` (already randomised, in train mode) in float64 and writes it.
    images: float32 (N,3,H,W); labels: int (N,H,W) with 255 = ignore.
    training_loss(net, x, labels) → scalar; default cross-entropy of net(x), ignore 255.
    extra: more tensors to store as they are (multi-task labels, class weights)."""
    net = net.double()
    tensors = {}
    x = images.double().clone().requires_grad_(True)
    tensors["input"] = as_numpy(images)
    tensors["labels"] = as_numpy(labels)
    for key, t in (extra or {}).items():
        tensors[key] = as_numpy(t)
    for name, t in net.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        tensors[f"state.{name}"] = as_numpy(t)
    logits = net(x)
    if training_loss is None:
        loss = torch.nn.functional.cross_entropy(net(x), labels.long(), ignore_index=255, reduction=reduction)
    else:
        loss = training_loss(net, x, labels.long())
    loss.backward()
    tensors["logits"] = as_numpy(logits)
    tensors["loss"] = as_numpy(loss.reshape(1))
    tensors["grad.input"] = as_numpy(x.grad)
    for name, p in net.named_parameters():
        assert p.grad is not None, f"{name}: no gradient reached it; the golden step must exercise every parameter"
        tensors[f"grad.{name}"] = as_numpy(p.grad)
    for name, b in net.named_buffers():
        if not name.endswith("num_batches_tracked"):
            tensors[f"state_after.{name}"] = as_numpy(b)
    write_safetensors(path, tensors, {"generator": generator_name, "torch": torch.__version__, "reduction": reduction})
    print(f"{path}: {len(tensors)} tensors, loss {loss.item():.6f}")

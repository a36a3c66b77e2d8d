#!/usr/bin/python3
# The PyTorch twin of nets/backbones/xception.{h,cpp}: aligned Xception-65 as TF DeepLab builds it
# (tensorflow/models research/deeplab/core/xception.py, xception_65): every max pool of Chollet's
# Xception replaced by a stride-2 separable conv, batch norm after each depthwise conv, explicit
# "fixed" padding, and the output-stride rewrite of stack_blocks_dense. Shared by the twin of
# DeepLab v3+ on Xception. Parameter names are ours (entry_flow.block1.sepconv1.depthwise.weight …)
# and the same in C++.
#   /usr/bin/python3 tools/reference/xception.py    prints the counts, writes the backbone golden
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters


def fixed_padding(kernel, dilation):
    """(begin, end) zero rows/cols of TF DeepLab's fixed_padding: the padding of a stride-1 "SAME"
    conv, independent of the input size, so a strided conv samples the stride-1 output's grid."""
    effective = kernel + (kernel - 1) * (dilation - 1)
    total = effective - 1
    return total // 2, total - total // 2


def dilate_for_output_stride(unit_strides, input_stride, output_stride):
    """[dilation] per unit, TF's stack_blocks_dense: once the map has reached output_stride, a unit
    runs at stride 1 with the current rate, and the rate multiplies by the stride it gave up."""
    rates, current, rate, strides = [], input_stride, 1, []
    for s in unit_strides:
        if current * s > output_stride:
            rates.append(rate)
            strides.append(1)
            rate *= s
        else:
            rates.append(rate)
            strides.append(s)
            current *= s
    assert current == output_stride, f"output stride {output_stride} not reachable"
    return strides, rates


class SeparableConv(nn.Module):
    """depthwise 3×3 (fixed padding) → BN → [ReLU] → pointwise 1×1 → BN → [ReLU]."""

    def __init__(self, cin, cout, stride, dilation, relu_inside, bn):
        super().__init__()
        begin, end = fixed_padding(3, dilation)
        self.padding = (begin, end, begin, end)
        self.relu_inside = relu_inside
        self.depthwise = nn.Conv2d(cin, cin, 3, stride=stride, dilation=dilation, groups=cin, bias=False)
        self.depthwise_bn = nn.BatchNorm2d(cin, **bn)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.pointwise_bn = nn.BatchNorm2d(cout, **bn)

    def forward(self, x):
        y = self.depthwise_bn(self.depthwise(F.pad(x, self.padding)))
        if self.relu_inside:
            y = F.relu(y)
        y = self.pointwise_bn(self.pointwise(y))
        return F.relu(y) if self.relu_inside else y


class XceptionUnit(nn.Module):
    """Three separable convs (the stride on the third) plus a shortcut: "conv" (strided 1×1 + BN),
    "sum" (identity) or "none". Without relu_inside each separable conv is preceded by a ReLU."""

    def __init__(self, cin, depths, stride, dilation, skip, relu_inside, bn):
        super().__init__()
        self.skip, self.relu_inside = skip, relu_inside
        channels = cin
        for i, depth in enumerate(depths):
            setattr(self, f"sepconv{i + 1}",
                    SeparableConv(channels, depth, stride if i == 2 else 1, dilation, relu_inside, bn))
            channels = depth
        if skip == "conv":
            self.shortcut = nn.Conv2d(cin, depths[-1], 1, stride=stride, bias=False)
            self.shortcut_bn = nn.BatchNorm2d(depths[-1], **bn)

    def forward_features(self, x):
        """(sepconv2's output, the unit's output): the first is DeepLab v3+'s low-level feature."""
        y = x
        outputs = []
        for sepconv in (self.sepconv1, self.sepconv2, self.sepconv3):
            y = sepconv(y if self.relu_inside else F.relu(y))
            outputs.append(y)
        if self.skip == "conv":
            y = y + self.shortcut_bn(self.shortcut(x))
        elif self.skip == "sum":
            y = y + x
        return outputs[1], y

    def forward(self, x):
        return self.forward_features(x)[1]


class Xception(nn.Module):
    def __init__(self, entry=(32, 64), entry_blocks=(128, 256, 728), middle_units=16,
                 exit_blocks=((728, 1024, 1024), (1536, 1536, 2048)), output_stride=16,
                 bn=None):
        super().__init__()
        bn = bn or dict(eps=1e-3, momentum=0.0003)  # TF: epsilon 1e-3, decay 0.9997
        unit_strides = [2, 2, 2] + [1] * middle_units + [2, 1]
        strides, rates = dilate_for_output_stride(unit_strides, 2, output_stride)
        self.entry_flow = nn.Module()
        e = self.entry_flow
        e.conv1_1 = nn.Conv2d(3, entry[0], 3, stride=2, padding=1, bias=False)  # fixed padding (1, 1)
        e.conv1_1_bn = nn.BatchNorm2d(entry[0], **bn)
        e.conv1_2 = nn.Conv2d(entry[0], entry[1], 3, padding=1, bias=False)
        e.conv1_2_bn = nn.BatchNorm2d(entry[1], **bn)
        channels, u = entry[1], 0
        for b, width in enumerate(entry_blocks):
            setattr(e, f"block{b + 1}",
                    XceptionUnit(channels, [width] * 3, strides[u], rates[u], "conv", False, bn))
            channels, u = width, u + 1
        self.middle_flow = nn.Module()
        for m in range(middle_units):
            setattr(self.middle_flow, f"unit{m + 1}",
                    XceptionUnit(channels, [channels] * 3, strides[u], rates[u], "sum", False, bn))
            u += 1
        self.middle_units = middle_units
        self.exit_flow = nn.Module()
        self.exit_flow.block1 = XceptionUnit(channels, list(exit_blocks[0]), strides[u], rates[u], "conv", False, bn)
        u += 1
        self.exit_flow.block2 = XceptionUnit(exit_blocks[0][-1], list(exit_blocks[1]), strides[u], rates[u], "none",
                                             True, bn)

    def features(self, x):
        """{low_level, entry_flow, middle_flow, exit_flow}, as XceptionFeatures."""
        e = self.entry_flow
        y = F.relu(e.conv1_1_bn(e.conv1_1(x)))
        y = F.relu(e.conv1_2_bn(e.conv1_2(y)))
        y = e.block1(y)
        low_level, y = e.block2.forward_features(y)
        f = {"low_level": low_level, "entry_flow": e.block3(y)}
        y = f["entry_flow"]
        for m in range(self.middle_units):
            y = getattr(self.middle_flow, f"unit{m + 1}")(y)
        f["middle_flow"] = y
        f["exit_flow"] = self.exit_flow.block2(self.exit_flow.block1(y))
        return f

    def forward(self, x):
        return self.features(x)["exit_flow"]


def xception65(output_stride=16):
    return Xception(output_stride=output_stride)


def tiny(output_stride=16):
    """The mini aligned Xception of the tiny configurations (ARCHITECTURES.md)."""
    return Xception(entry=(8, 16), entry_blocks=(16, 32, 64), middle_units=4, exit_blocks=((64, 128, 128), (192, 192, 256)),
                    output_stride=output_stride, bn=dict(eps=1e-3, momentum=0.1))


def micro(output_stride=16):
    """The golden's widths: every kind of unit, as few weights as possible."""
    return Xception(entry=(2, 4), entry_blocks=(4, 4, 6), middle_units=2, exit_blocks=((6, 8, 8), (8, 8, 10)),
                    output_stride=output_stride, bn=dict(eps=1e-3, momentum=0.1))


class XceptionProbe(nn.Module):
    """The backbone golden's net: 1×1 scores on the exit and low-level features, each bilinearly
    resized to the input (align_corners = True, TF DeepLab's convention), summed."""

    def __init__(self, backbone, low_level_channels, num_classes):
        super().__init__()
        self.backbone = backbone
        self.exit_head = nn.Conv2d(backbone.exit_flow.block2.sepconv3.pointwise.out_channels, num_classes, 1)
        self.low_level_head = nn.Conv2d(low_level_channels, num_classes, 1)

    def forward(self, x):
        f = self.backbone.features(x)
        size = x.shape[2:]
        up = lambda t: F.interpolate(t, size=size, mode="bilinear", align_corners=True)
        return up(self.exit_head(f["exit_flow"])) + up(self.low_level_head(f["low_level"]))


def count(net):
    return sum(p.numel() for p in net.parameters())


if __name__ == "__main__":
    print("xception-65 (aligned, no logits):", f"{count(xception65()):,}")
    print("xception tiny:", f"{count(tiny()):,}")
    gen = torch.Generator().manual_seed(11)
    # Output stride 8: entry block 3 and exit block 1 give up their strides, the middle flow and
    # exit block 1 run at rate 2, exit block 2 at 4 (the DeepLab v3+ golden covers output stride 16).
    net = XceptionProbe(micro(8), 4, 3)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 18, 14, generator=gen)
    labels = torch.randint(0, 3, (2, 18, 14), generator=gen, dtype=torch.int32)
    labels[:, 0, 0] = 255
    net_golden("tests/golden/xception.safetensors", net, images, labels,
               generator_name="tools/reference/xception.py: micro aligned Xception, output stride 8, 1×1 probes, 3 classes")

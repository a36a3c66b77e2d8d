#!/usr/bin/python3
# The PyTorch twin of nets/dilation_frontend.*, nets/context_module.* and nets/dilation_net.*
# (Yu & Koltun, "Multi-Scale Context Aggregation by Dilated Convolutions", ICLR 2016): same
# modules, same parameter names (the reference network.py's: conv1_1 … conv5_3, fc6, fc7, final;
# ctx_conv1_1 … ctx_final), "same" padding everywhere. Prints the parameter counts of the full
# front-end, the basic context module and the whole net, and writes two golden training steps at
# micro width: the context module alone (tests/golden/dilation_context.safetensors) and the whole
# net (tests/golden/dilation.safetensors).
#   /usr/bin/python3 tools/reference/dilation.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters


class Frontend(nn.Module):
    """VGG-16 without pool4/pool5, conv5 dilated 2, fc6 7×7 dilated 4, fc7 1×1, final 1×1 → C."""

    def __init__(self, num_classes, widths=(64, 128, 256, 512, 512), convs=(2, 2, 3, 3, 3), fc=4096,
                 fc6_kernel=7, fc6_dilation=4, dropout=0.5):
        super().__init__()
        self.blocks = []
        cin = 3
        for b, (width, count) in enumerate(zip(widths, convs)):
            d = 2 if b == 4 else 1
            names = []
            for i in range(count):
                name = f"conv{b + 1}_{i + 1}"
                setattr(self, name, nn.Conv2d(cin, width, 3, padding=d, dilation=d))
                names.append(name)
                cin = width
            self.blocks.append(names)
        self.fc6 = nn.Conv2d(cin, fc, fc6_kernel, padding=fc6_dilation * (fc6_kernel // 2), dilation=fc6_dilation)
        self.fc7 = nn.Conv2d(fc, fc, 1)
        self.final = nn.Conv2d(fc, num_classes, 1)
        self.drop6 = nn.Dropout(dropout)
        self.drop7 = nn.Dropout(dropout)

    def forward(self, x):
        for b, names in enumerate(self.blocks):
            for name in names:
                x = F.relu(getattr(self, name)(x))
            if b < 3:  # pool1–pool3 only
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        x = self.drop6(F.relu(self.fc6(x)))
        x = self.drop7(F.relu(self.fc7(x)))
        return self.final(x)


def context_layer_name(i):
    return f"ctx_conv1_{i + 1}" if i < 2 else f"ctx_conv{i}_1"


class ContextModule(nn.Module):
    """Context module: 3×3 convs at the given dilations (basic: C wide; large: 2C … 32C), ctx_fc1 3×3,
    ctx_final 1×1 → C."""

    def __init__(self, channels, dilations=(1, 1, 2, 4, 8, 16), large=False):
        super().__init__()
        self.names = []
        cin = channels
        for i, d in enumerate(dilations):
            width = channels * 2 ** max(i, 1) if large else channels  # large: 2C, 2C, 4C, 8C, ...
            setattr(self, context_layer_name(i), nn.Conv2d(cin, width, 3, padding=d, dilation=d))
            self.names.append(context_layer_name(i))
            cin = width
        self.ctx_fc1 = nn.Conv2d(cin, cin, 3, padding=1)
        self.ctx_final = nn.Conv2d(cin, channels, 1)
        self.names += ["ctx_fc1", "ctx_final"]

    def forward(self, x):
        for name in self.names[:-1]:
            x = F.relu(getattr(self, name)(x))
        return self.ctx_final(x)


class FixedBilinearUpsampling(nn.Module):
    """The reference's deconvolution: kernel 2f, stride f, pad f/2, groups C, bilinear, not learned."""

    def __init__(self, channels, factor=8):
        super().__init__()
        k = 2 * factor
        f = (k + 1) // 2
        c = f - 1 if k % 2 == 1 else f - 0.5
        og = torch.arange(k, dtype=torch.float32)
        filt = (1 - (og - c).abs() / f)[:, None] * (1 - (og - c).abs() / f)[None, :]
        self.register_buffer("weight", filt.expand(channels, 1, k, k).clone())
        self.factor = factor

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, stride=self.factor, padding=self.factor // 2, groups=x.shape[1])


class DilationNet(nn.Module):
    def __init__(self, num_classes, frontend=None, dilations=(1, 1, 2, 4, 8, 16), with_context=True):
        super().__init__()
        self.frontend = Frontend(num_classes, **(frontend or {}))
        self.context = ContextModule(num_classes, dilations) if with_context else None
        self.upsample = FixedBilinearUpsampling(num_classes, 8)

    def forward(self, x):
        x = self.frontend(x)
        if self.context is not None:
            x = self.context(x)
        return self.upsample(x)


class ContextOnly(nn.Module):
    """The context module as a net of its own: scores in, refined scores out (tests' wrapper)."""

    def __init__(self, channels, dilations, large=False):
        super().__init__()
        self.context = ContextModule(channels, dilations, large)

    def forward(self, x):
        return self.context(x)


def count(module):
    return sum(p.numel() for p in module.parameters())


if __name__ == "__main__":
    full = DilationNet(21)
    print("dilation front-end (21 classes):", count(full.frontend))
    print("basic context module (21 classes):", count(full.context))
    print("large context module (21 classes):", count(ContextModule(21, large=True)))
    print("dilation-full (21 classes):", count(full))
    print("dilation-frontend-full (21 classes):", count(DilationNet(21, with_context=False)))
    tiny = DilationNet(6, frontend=dict(widths=(8, 16, 32, 32, 32), convs=(2, 2, 2, 2, 2), fc=64), dilations=(1, 1, 2, 4))
    print("dilation-tiny (6 classes):", count(tiny), "front-end", count(tiny.frontend), "context", count(tiny.context))

    gen = torch.Generator().manual_seed(4)
    context = ContextOnly(3, (1, 1, 2, 4))
    randomise_parameters(context, gen)
    context.train()
    scores = torch.randn(2, 3, 10, 10, generator=gen)
    labels = torch.randint(0, 3, (2, 10, 10), generator=gen, dtype=torch.int32)
    labels[0, 0, :4] = 255
    net_golden("tests/golden/dilation_context.safetensors", context, scores, labels,
               generator_name="tools/reference/dilation.py: context module alone, 3 channels, dilations 1-1-2-4")

    # fc6 dilated 2 (not 4) so that its outer taps reach into the 4×4 map of a 32×32 image.
    large = ContextOnly(2, (1, 1, 2), large=True)
    randomise_parameters(large, gen)
    large.train()
    scores = torch.randn(1, 2, 8, 8, generator=gen)
    labels = torch.randint(0, 2, (1, 8, 8), generator=gen, dtype=torch.int32)
    net_golden("tests/golden/dilation_context_large.safetensors", large, scores, labels,
               generator_name="tools/reference/dilation.py: large context module alone, 2 channels (widths 4-4-8-8-2), "
                              "dilations 1-1-2")

    micro = dict(widths=(2, 2, 3, 3, 4), convs=(1, 1, 1, 1, 2), fc=5, fc6_dilation=2, dropout=0.0)
    net = DilationNet(3, frontend=micro, dilations=(1, 1, 2))
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(1, 3, 32, 32, generator=gen)
    labels = torch.randint(0, 3, (1, 32, 32), generator=gen, dtype=torch.int32)
    labels[0, :3, :5] = 255
    net_golden("tests/golden/dilation.safetensors", net, images, labels,
               generator_name="tools/reference/dilation.py: widths 2-2-3-3-4, convs 1-1-1-1-2, fc 5, fc6 7×7 d2, "
                              "no dropout, 3 classes, context dilations 1-1-2, 32×32")

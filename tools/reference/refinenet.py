#!/usr/bin/python3
# The PyTorch twin of nets/refinenet.{h,cpp} and nets/refinenet_blocks.{h,cpp} (RefineNet, Lin et
# al. 2017; light-weight RefineNet, Nekrasov et al. 2018) with the same parameter names, on the twin
# ResNet of tools/reference/resnet.py. Written from the papers and the structure of
# DrSleep/refinenet-pytorch and DrSleep/light-weight-refinenet (models/resnet.py), whose flat names
# map to ours as nets/refinenet_blocks.h lists. Prints the full and tiny nets' parameter counts and
# writes two golden training steps at micro width:
# tests/golden/refinenet.safetensors and tests/golden/refinenet_lw.safetensors.
#   /usr/bin/python3 tools/reference/refinenet.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters
from resnet import ResNet


def conv(cin, cout, kernel, bias=False):
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=bias)


class RCU(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = conv(c, c, 3, bias=True)
        self.conv2 = conv(c, c, 3)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class CRP(nn.Module):
    def __init__(self, c, blocks, kernel):
        super().__init__()
        self.pool = nn.MaxPool2d(5, stride=1, padding=2)
        for i in range(1, blocks + 1):
            setattr(self, f"conv{i}", conv(c, c, kernel))
        self.blocks = blocks

    def forward(self, x):
        total = path = F.relu(x)
        for i in range(1, self.blocks + 1):
            path = getattr(self, f"conv{i}")(self.pool(path))
            total = total + path
        return total


class Block(nn.Module):
    def __init__(self, cin, coarse, c, kernel, adapt_rcus, crp_blocks, output_rcus):
        super().__init__()
        self.adapt_conv = conv(cin, c, kernel)
        self.adapt_rcus = nn.Sequential(*[RCU(c) for _ in range(adapt_rcus)]) if adapt_rcus else None
        self.fuse_conv = conv(c, c, kernel) if coarse else None
        self.fuse_coarse_conv = conv(coarse, c, kernel) if coarse else None
        self.crp = CRP(c, crp_blocks, kernel)
        self.output_rcus = nn.Sequential(*[RCU(c) for _ in range(output_rcus)]) if output_rcus else None

    def forward(self, x, coarse=None):
        x = self.adapt_conv(x)
        if self.adapt_rcus is not None:
            x = self.adapt_rcus(x)
        if coarse is not None:
            up = F.interpolate(self.fuse_coarse_conv(coarse), size=x.shape[2:], mode="bilinear", align_corners=True)
            x = self.fuse_conv(x) + up
        x = self.crp(x)
        if self.output_rcus is not None:
            x = self.output_rcus(x)
        return x


class RefineNet(nn.Module):
    def __init__(self, classes, blocks=(3, 4, 23, 3), widths=(64, 128, 256, 512), stem=64, top=512, width=256,
                 kernel=3, adapt_rcus=2, crp_blocks=4, output_rcus=3, classifier_kernel=3, dropout=0.5):
        super().__init__()
        self.backbone = ResNet(list(blocks), list(widths), stem, output_stride=32)
        levels = [4 * w for w in widths]
        opts = dict(kernel=kernel, adapt_rcus=adapt_rcus, crp_blocks=crp_blocks, output_rcus=output_rcus)
        self.refine4 = Block(levels[3], 0, top, **opts)
        self.refine3 = Block(levels[2], top, width, **opts)
        self.refine2 = Block(levels[1], width, width, **opts)
        self.refine1 = Block(levels[0], width, width, **opts)
        self.dropout = nn.Dropout(dropout)
        self.classifier = conv(width, classes, classifier_kernel, bias=True)

    def forward(self, x):
        f = self.backbone.features(x)
        r4 = self.refine4(self.dropout(f["layer4"]))
        r3 = self.refine3(self.dropout(f["layer3"]), r4)
        r2 = self.refine2(f["layer2"], r3)
        r1 = self.refine1(f["layer1"], r2)
        logits = self.classifier(self.dropout(r1))
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=False)


LIGHT_WEIGHT = dict(kernel=1, adapt_rcus=0, output_rcus=0, dropout=0.0)
TINY = dict(blocks=(2, 2, 2, 2), widths=(8, 16, 32, 64), stem=8, top=32, width=16)
MICRO = dict(blocks=(1, 1, 1, 1), widths=(2, 2, 2, 2), stem=4, top=4, width=3, dropout=0.0)


def count(net):
    return sum(p.numel() for p in net.parameters())


if __name__ == "__main__":
    r50, r101 = (3, 4, 6, 3), (3, 4, 23, 3)
    for name, kwargs in (("refinenet resnet101", dict(blocks=r101)),
                         ("refinenet resnet50", dict(blocks=r50)),
                         ("refinenet crp 2 resnet101", dict(blocks=r101, crp_blocks=2)),
                         ("refinenet-lw resnet101", dict(blocks=r101, **LIGHT_WEIGHT)),
                         ("refinenet-lw resnet50", dict(blocks=r50, **LIGHT_WEIGHT))):
        net = RefineNet(21, **kwargs)
        print(f"{name} (21 classes): {count(net):,} (backbone {count(net.backbone):,})")
    print(f"refinenet-tiny (6 classes): {count(RefineNet(6, **TINY)):,}")
    print(f"refinenet-lw-tiny (6 classes): {count(RefineNet(6, **TINY, **LIGHT_WEIGHT)):,}")

    # Micro: one unit per stage, widths 2 (stage outputs 8), stem 4, block widths 4 / 3, 3 classes,
    # the default CRP of 4 and RCUs 2 / 3, dropout 0 (its masks are random draws the two engines
    # cannot share). 32×64: a 1×2 top map, fused into 2×4, then 4×8 and 8×16.
    for path, extra in (("tests/golden/refinenet.safetensors", {}),
                        ("tests/golden/refinenet_lw.safetensors", LIGHT_WEIGHT)):
        gen = torch.Generator().manual_seed(7)
        net = RefineNet(3, **{**MICRO, **extra})
        randomise_parameters(net, gen)
        net.train()
        images = torch.randn(1, 3, 32, 64, generator=gen)
        labels = torch.randint(0, 3, (1, 32, 64), generator=gen, dtype=torch.int32)
        labels[:, :3, :7] = 255
        net_golden(path, net, images, labels,
                   generator_name=f"tools/reference/refinenet.py: micro (units 1-1-1-1, widths 2, stem 4, "
                                  f"blocks 4/3, 3 classes, dropout 0{', light-weight' if extra else ''}), 32×64")

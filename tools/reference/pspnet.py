#!/usr/bin/python3
# The PyTorch twin of nets/pspnet.{h,cpp} (PSPNet, Zhao et al. 2017) with the same parameter names,
# which are mmsegmentation's (pspnet_r50-d8: backbone.*, decode_head.psp_modules.{i}.1.conv/bn,
# decode_head.bottleneck, decode_head.conv_seg, auxiliary_head.convs.0, auxiliary_head.conv_seg),
# on the twin ResNet of tools/reference/resnet.py (torchvision's 7×7 stem). Prints the full nets'
# parameter counts and writes two golden training steps at micro width, the loss including the
# auxiliary head's 0.4 share: tests/golden/pspnet.safetensors (align_corners false, 16×16 → 2×2
# map: 3 and 6 bins repeat pixels) and tests/golden/pspnet_align_corners.safetensors (true, 17×17 →
# 3×3 map: 2 bins overlap, 6 repeat).
#   /usr/bin/python3 tools/reference/pspnet.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters
from resnet import ResNet


class ConvModule(nn.Module):
    """mmseg's ConvModule with BN and ReLU: conv (no bias) → bn → relu."""

    def __init__(self, cin, cout, kernel):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class PPM(nn.ModuleList):
    def __init__(self, bins, cin, branch, align_corners):
        super().__init__([nn.Sequential(nn.AdaptiveAvgPool2d(b), ConvModule(cin, branch, 1)) for b in bins])
        self.align_corners = align_corners

    def forward(self, x):
        return torch.cat([x] + [F.interpolate(m(x), size=x.shape[2:], mode="bilinear",
                                              align_corners=self.align_corners) for m in self], 1)


class PSPHead(nn.Module):
    def __init__(self, cin, classes, bins, channels, dropout, align_corners):
        super().__init__()
        self.psp_modules = PPM(bins, cin, cin // len(bins), align_corners)
        self.bottleneck = ConvModule(2 * cin, channels, 3)
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(channels, classes, 1)

    def forward(self, x):
        return self.conv_seg(self.dropout(self.bottleneck(self.psp_modules(x))))


class FCNHead(nn.Module):
    def __init__(self, cin, classes, channels, dropout):
        super().__init__()
        self.convs = nn.Sequential(ConvModule(cin, channels, 3))
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(channels, classes, 1)

    def forward(self, x):
        return self.conv_seg(self.dropout(self.convs(x)))


class PSPNet(nn.Module):
    def __init__(self, classes, blocks=(3, 4, 6, 3), widths=(64, 128, 256, 512), stem=64, bins=(1, 2, 3, 6),
                 channels=512, aux_channels=256, dropout=0.1, aux_weight=0.4, align_corners=False):
        super().__init__()
        self.backbone = ResNet(list(blocks), list(widths), stem, output_stride=8)
        self.decode_head = PSPHead(4 * widths[3], classes, bins, channels, dropout, align_corners)
        self.auxiliary_head = FCNHead(4 * widths[2], classes, aux_channels, dropout)
        self.aux_weight, self.align_corners = aux_weight, align_corners

    def up(self, logits, x):
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=self.align_corners)

    def forward(self, x):
        return self.up(self.decode_head(self.backbone(x)), x)

    def training_loss(self, x, labels):
        f = self.backbone.features(x)
        main = F.cross_entropy(self.up(self.decode_head(f["layer4"]), x), labels, ignore_index=255)
        aux = F.cross_entropy(self.up(self.auxiliary_head(f["layer3"]), x), labels, ignore_index=255)
        return main + self.aux_weight * aux


def count(net):
    return sum(p.numel() for p in net.parameters())


if __name__ == "__main__":
    for name, blocks in (("resnet50", (3, 4, 6, 3)), ("resnet101", (3, 4, 23, 3))):
        net = PSPNet(21, blocks=blocks)
        total, aux = count(net), count(net.auxiliary_head)
        print(f"pspnet {name}-d8 (21 classes): {total:,} ({total - aux:,} without the auxiliary head)")
    tiny = PSPNet(6, blocks=(2, 2, 2, 2), widths=(8, 16, 32, 64), stem=8, channels=64, aux_channels=32)
    print(f"pspnet-tiny (6 classes): {count(tiny):,} ({count(tiny) - count(tiny.auxiliary_head):,} without aux)")

    # Micro: one unit per stage, widths 2 (stage outputs 8), 4 bins of 2 channels, bottleneck 4,
    # aux 3, 3 classes. Dropout 0: its masks are random draws that the two engines cannot share
    # (the dropout op has its own tests).
    for path, align_corners, side in (("tests/golden/pspnet.safetensors", False, 16),
                                      ("tests/golden/pspnet_align_corners.safetensors", True, 17)):
        gen = torch.Generator().manual_seed(5)
        net = PSPNet(3, blocks=(1, 1, 1, 1), widths=(2, 2, 2, 2), stem=4, channels=4, aux_channels=3, dropout=0.0,
                     align_corners=align_corners)
        randomise_parameters(net, gen)
        net.train()
        images = torch.randn(2, 3, side, side, generator=gen)
        labels = torch.randint(0, 3, (2, side, side), generator=gen, dtype=torch.int32)
        labels[:, :2, :5] = 255
        net_golden(path, net, images, labels, training_loss=lambda n, x, y: n.training_loss(x, y),
                   generator_name=f"tools/reference/pspnet.py: micro (units 1-1-1-1, widths 2, stem 4, "
                                  f"bottleneck 4, aux 3, 3 classes, dropout 0), {side}×{side}, "
                                  f"align_corners {align_corners}, aux weight 0.4")

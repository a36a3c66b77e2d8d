#!/usr/bin/python3
# The PyTorch twin of nets/deeplab_v1.{h,cpp} (DeepLab v1 LargeFOV, Chen et al., ICLR 2015): VGG-16
# with 3×3 pools (pool4/pool5 at stride 1, conv5 dilated by 2: output stride 8), fc6 3×3 dilated by
# 12 (1024) → fc7 1×1 (1024) → fc8 1×1 (C), dropout 0.5 after fc6 and fc7. Same parameter names
# as the C++ net (backbone.conv1_1 …, fc6, fc7, fc8). Shared by deeplab_v2.py (VGG, the helpers).
# Prints the full net's parameter count and writes a micro golden step to
# tests/golden/deeplab_v1.safetensors.
#   /usr/bin/python3 tools/reference/deeplab_v1.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters

VGG16_WIDTHS = (64, 128, 256, 512, 512)
VGG16_CONVS = (2, 2, 3, 3, 3)


class Vgg16LargeFov(nn.Module):
    """VGG-16's convs named as Caffe's (conv1_1 …), DeepLab's pools: 3×3 pad 1, stride 2 for
    pool1–3 and 1 for pool4/5, ceil mode; conv5 dilated by 2."""

    def __init__(self, widths=VGG16_WIDTHS, convs=VGG16_CONVS):
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
        self.out_channels = cin

    def forward(self, x):
        for b, names in enumerate(self.blocks):
            for name in names:
                x = F.relu(getattr(self, name)(x))
            x = F.max_pool2d(x, 3, stride=2 if b < 3 else 1, padding=1, ceil_mode=True)
        return x


def shrink_labels(labels, h, w):
    """(N, H, W) → (N, h, w): the label under each score-map pixel on Caffe's Interp grid
    (align corners: source = i·(H − 1)/(h − 1)), nearest instead of bilinear."""
    H, W = labels.shape[1:]

    def rows(n_in, n_out):
        if n_out == 1:
            return torch.zeros(1, dtype=torch.long)
        # round(i·(n_in − 1)/(n_out − 1)), halves up, in integers as the C++ does
        return torch.tensor([(2 * i * (n_in - 1) + n_out - 1) // (2 * (n_out - 1)) for i in range(n_out)],
                            dtype=torch.long)

    return labels[:, rows(H, h)][:, :, rows(W, w)]


def upsample(scores, h, w):
    """Caffe's Interp: bilinear with corners aligned."""
    return F.interpolate(scores, size=(h, w), mode="bilinear", align_corners=True)


def score_map_loss(scores, labels):
    """Cross-entropy of stride-8 scores against the labels shrunk to their size (ignore 255)."""
    return F.cross_entropy(scores, shrink_labels(labels, *scores.shape[2:]), ignore_index=255)


class DeepLabV1(nn.Module):
    def __init__(self, num_classes=21, widths=VGG16_WIDTHS, convs=VGG16_CONVS, fc_width=1024, rate=12,
                 dropout=0.5):
        super().__init__()
        self.backbone = Vgg16LargeFov(widths, convs)
        self.fc6 = nn.Conv2d(self.backbone.out_channels, fc_width, 3, padding=rate, dilation=rate)
        self.fc7 = nn.Conv2d(fc_width, fc_width, 1)
        self.fc8 = nn.Conv2d(fc_width, num_classes, 1)
        self.dropout = dropout

    def score_map(self, x):
        x = self.backbone(x)
        x = F.dropout(F.relu(self.fc6(x)), self.dropout, self.training)
        x = F.dropout(F.relu(self.fc7(x)), self.dropout, self.training)
        return self.fc8(x)

    def forward(self, x):
        return upsample(self.score_map(x), *x.shape[2:])


def count(net):
    return sum(p.numel() for p in net.parameters())


if __name__ == "__main__":
    print("deeplabv1-full (21 classes):", count(DeepLabV1(21)))

    gen = torch.Generator().manual_seed(12)
    net = DeepLabV1(3, widths=(2, 3, 4, 4, 4), convs=(1, 1, 1, 1, 1), fc_width=5, rate=3, dropout=0.0)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 17, 20, generator=gen)
    labels = torch.randint(0, 3, (2, 17, 20), generator=gen, dtype=torch.int32)
    labels[:, 0, :5] = 255
    net_golden("tests/golden/deeplab_v1.safetensors", net, images, labels,
               training_loss=lambda net, x, labels: score_map_loss(net.score_map(x), labels),
               generator_name="tools/reference/deeplab_v1.py: widths 2-3-4-4-4, one conv a block, fc 5, rate 3, "
                              "3 classes, no dropout")

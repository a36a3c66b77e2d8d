#!/usr/bin/python3
# The PyTorch twin of nets/unet.{h,cpp} (U-Net, Ronneberger et al. 2015): same modules, same
# parameter names. Prints the parameter counts of the full configuration and of the paper's net,
# and writes two golden training steps at micro width: the padded form with batch norm
# (tests/golden/unet.safetensors) and the paper's unpadded form (tests/golden/unet_unpadded.safetensors).
#   /usr/bin/python3 tools/reference/unet.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters


class DoubleConv(nn.Module):
    def __init__(self, cin, cout, padded, batch_norm):
        super().__init__()
        pad = 1 if padded else 0
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=pad, bias=not batch_norm)
        self.bn1 = nn.BatchNorm2d(cout) if batch_norm else None
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=pad, bias=not batch_norm)
        self.bn2 = nn.BatchNorm2d(cout) if batch_norm else None

    def forward(self, x):
        x = self.conv1(x)
        if self.bn1 is not None:
            x = self.bn1(x)
        x = F.relu(x)
        x = self.conv2(x)
        if self.bn2 is not None:
            x = self.bn2(x)
        return F.relu(x)


class UpBlock(nn.Module):
    def __init__(self, cin, padded, batch_norm):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.convs = DoubleConv(cin, cin // 2, padded, batch_norm)

    def forward(self, x, skip):
        up = self.up(x)
        top, left = (skip.shape[2] - up.shape[2]) // 2, (skip.shape[3] - up.shape[3]) // 2
        skip = skip[:, :, top:top + up.shape[2], left:left + up.shape[3]]
        return self.convs(torch.cat([skip, up], 1))


class UNet(nn.Module):
    def __init__(self, num_classes, in_channels=3, base=64, depth=4, padded=True, batch_norm=True):
        super().__init__()
        self.depth = depth
        self.contract = nn.ModuleList([DoubleConv(in_channels, base, padded, batch_norm)])
        ch = base
        for _ in range(depth):
            self.contract.append(DoubleConv(ch, 2 * ch, padded, batch_norm))
            ch *= 2
        self.expand = nn.ModuleList()
        for _ in range(depth):
            self.expand.append(UpBlock(ch, padded, batch_norm))
            ch //= 2
        self.classifier = nn.Conv2d(base, num_classes, 1)

    def forward(self, x):
        skips = []
        for level in range(self.depth):
            x = self.contract[level](x)
            skips.append(x)
            x = F.max_pool2d(x, 2, 2)
        x = self.contract[self.depth](x)
        for block, level in enumerate(reversed(range(self.depth))):
            x = self.expand[block](x, skips[level])
        return self.classifier(x)


def count(net):
    return sum(p.numel() for p in net.parameters())


def centre_crop_loss(net, x, labels):
    logits = net(x)
    h, w = logits.shape[2:]
    top, left = (labels.shape[1] - h) // 2, (labels.shape[2] - w) // 2
    return F.cross_entropy(logits, labels[:, top:top + h, left:left + w], ignore_index=255)


def labels_for(gen, n, h, w, classes):
    labels = torch.randint(0, classes, (n, h, w), generator=gen, dtype=torch.int32)
    labels[:, 0, 0] = 255  # ignored pixels: a corner and the centre
    labels[:, h // 2, w // 2] = 255
    return labels


if __name__ == "__main__":
    print("unet-full (3 → 21 classes, padded, BN):", count(UNet(21)))
    print("the paper's net (1 → 2 classes, unpadded, no BN):", count(UNet(2, 1, padded=False, batch_norm=False)))
    print("1 → 1 class, unpadded, no BN:", count(UNet(1, 1, padded=False, batch_norm=False)))

    gen = torch.Generator().manual_seed(7)
    net = UNet(3, base=2, depth=2)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 8, 8, generator=gen)
    net_golden("tests/golden/unet.safetensors", net, images, labels_for(gen, 2, 8, 8, 3),
               generator_name="tools/reference/unet.py: base 2, depth 2, padded, BN, 3 classes")

    net = UNet(3, base=2, depth=2, padded=False, batch_norm=False)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(1, 3, 44, 44, generator=gen)  # 44 → 4 at depth 2
    net_golden("tests/golden/unet_unpadded.safetensors", net, images, labels_for(gen, 1, 44, 44, 3),
               training_loss=centre_crop_loss,
               generator_name="tools/reference/unet.py: base 2, depth 2, unpadded, no BN, 3 classes")

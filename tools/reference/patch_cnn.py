#!/usr/bin/python3
# The PyTorch twin of nets/patch_cnn.{h,cpp} (the patch classification baseline, Ciresan et al.
# 2012): the patch classifier (valid convs, ReLU, 2×2/2 max-pools, fully connected layers), its
# dense convolutionalised form (fc weights viewed as conv kernels, stride-1 pools dilated by the
# stride so far), and the patch-sampled loss over every labelled pixel. Prints the full net's
# parameter count and writes one golden step at micro width to tests/golden/patch_cnn.safetensors:
# logits from the dense form, the loss (and every gradient) from the patch form.
#   /usr/bin/python3 tools/reference/patch_cnn.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters


class PatchCnn(nn.Module):
    def __init__(self, num_classes, patch_size, channels, kernels, hidden, in_channels=3):
        super().__init__()
        self.patch_size = patch_size
        self.convs = nn.ModuleList()
        side, cin = patch_size, in_channels
        for c, k in zip(channels, kernels):
            self.convs.append(nn.Conv2d(cin, c, k))
            side = (side - k + 1) // 2
            cin = c
        self.side, self.c_last = side, cin
        self.fcs = nn.ModuleList()
        features = cin * side * side
        for f in list(hidden) + [num_classes]:
            self.fcs.append(nn.Linear(features, f))
            features = f

    def classify_patches(self, patches):
        x = patches
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2, 2)
        x = x.flatten(1)
        for i, fc in enumerate(self.fcs):
            x = fc(x)
            if i + 1 < len(self.fcs):
                x = F.relu(x)
        return x

    def forward(self, images):  # the convolutionalised, dilated dense form
        r = self.patch_size // 2
        x = F.pad(images, (r, r, r, r))
        d = 1
        for conv in self.convs:
            x = F.relu(F.conv2d(x, conv.weight, conv.bias, dilation=d))
            x = F.max_pool2d(x, 2, stride=1, dilation=d)
            d *= 2
        w0 = self.fcs[0].weight
        x = F.conv2d(x, w0.view(w0.shape[0], self.c_last, self.side, self.side), self.fcs[0].bias, dilation=d)
        for fc in self.fcs[1:]:
            x = F.conv2d(F.relu(x), fc.weight[:, :, None, None], fc.bias)
        return x


def every_labelled_pixel_loss(net, x, labels):
    r, p = net.patch_size // 2, net.patch_size
    padded = F.pad(x, (r, r, r, r))
    patches, targets = [], []
    for n in range(x.shape[0]):
        for y in range(x.shape[2]):
            for col in range(x.shape[3]):
                if labels[n, y, col] != 255:
                    patches.append(padded[n:n + 1, :, y:y + p, col:col + p])
                    targets.append(labels[n, y, col])
    return F.cross_entropy(net.classify_patches(torch.cat(patches)), torch.stack(targets))


if __name__ == "__main__":
    full = PatchCnn(2, 95, (48, 48, 48, 48), (4, 5, 4, 4), (200,))
    print("patch-cnn-full (Ciresan et al.'s N4, 3 channels, 2 classes):", sum(p.numel() for p in full.parameters()))
    grey = PatchCnn(2, 95, (48, 48, 48, 48), (4, 5, 4, 4), (200,), in_channels=1)
    print("N4 as published (1 channel, 2 classes):", sum(p.numel() for p in grey.parameters()))

    gen = torch.Generator().manual_seed(13)
    # Patch 9: conv 2×2 (9 → 8, pool → 4), conv 3×3 (4 → 2, pool → 1); fc 4; fc 3.
    net = PatchCnn(3, 9, (2, 3), (2, 3), (4,))
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 6, 5, generator=gen)
    labels = torch.randint(0, 3, (2, 6, 5), generator=gen, dtype=torch.int32)
    labels[0, 1, :] = 255
    with torch.no_grad():  # the twin's own check: the dense form equals the per-patch classifier
        r = net.patch_size // 2
        padded = F.pad(images, (r, r, r, r))
        per_pixel = torch.stack([torch.stack([net.classify_patches(padded[:, :, y:y + 9, col:col + 9])
                                              for col in range(5)], -1) for y in range(6)], -2)
        assert torch.allclose(net(images), per_pixel, atol=1e-5), (net(images) - per_pixel).abs().max()
    net_golden("tests/golden/patch_cnn.safetensors", net, images, labels, training_loss=every_labelled_pixel_loss,
               generator_name="tools/reference/patch_cnn.py: patch 9, convs 2@2x2 3@3x3, fc 4, 3 classes")

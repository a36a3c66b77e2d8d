#!/usr/bin/python3
# The PyTorch twin of nets/fcn.{h,cpp} (FCN-32s / 16s / 8s, Long, Shelhamer, Darrell 2015): same
# modules, same parameter names (backbone.conv1_1 … conv5_3, fc6, fc7, score_fr, score_pool4,
# score_pool3, upscore / upscore2, upscore16 / upscore_pool4, upscore8). The crop offsets are
# not computed here: they are the numbers written in the reference prototxts
# (shelhamer/fcn.berkeleyvision.org voc-fcn32s/16s/8s, Crop layers' offset), so the goldens also
# check the C++ side's coordinate-map arithmetic. Prints the full nets' parameter counts and
# writes micro-width golden training steps to tests/golden/fcn*.safetensors.
#   /usr/bin/python3 tools/reference/fcn.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters

# score_pool4c, score_pool3c and score = crop(upscore…, data) offsets of the pad-100 nets.
REFERENCE_OFFSETS = {
    "32s": {"output": 19},
    "16s": {"score_pool4": 5, "output": 27},
    "8s": {"score_pool4": 5, "score_pool3": 9, "output": 31},
}


def bilinear_filter(channels, kernel):
    """FCN's upsampling filter (surgery.py's upsample_filt) on the channel diagonal."""
    factor = (kernel + 1) // 2
    centre = factor - 1 if kernel % 2 == 1 else factor - 0.5
    r = torch.arange(kernel, dtype=torch.float64)
    line = 1 - (r - centre).abs() / factor
    weight = torch.zeros(channels, channels, kernel, kernel, dtype=torch.float64)
    for c in range(channels):
        weight[c, c] = line[:, None] * line[None, :]
    return weight


class Vgg16(nn.Module):
    def __init__(self, widths, convs, conv1_1_pad):
        super().__init__()
        self.blocks = []
        cin = 3
        for b, (width, count) in enumerate(zip(widths, convs)):
            names = []
            for i in range(count):
                name = f"conv{b + 1}_{i + 1}"
                self.add_module(name, nn.Conv2d(cin, width, 3, padding=conv1_1_pad if b == 0 and i == 0 else 1))
                names.append(name)
                cin = width
            self.blocks.append(names)

    def forward(self, x):
        pools = []
        for names in self.blocks:
            for name in names:
                x = F.relu(getattr(self, name)(x))
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)  # Caffe rounds pooled sizes up
            pools.append(x)
        return pools  # pool1 … pool5


class FCN(nn.Module):
    def __init__(self, variant, num_classes, widths=(64, 128, 256, 512, 512), convs=(2, 2, 3, 3, 3), fc=4096,
                 fc6_kernel=7, same=False, at_once=False, dropout=0.5):
        super().__init__()
        self.variant, self.same, self.at_once = variant, same, at_once
        self.backbone = Vgg16(widths, convs, 1 if same else 100)
        self.fc6 = nn.Conv2d(widths[4], fc, fc6_kernel, padding=fc6_kernel // 2 if same else 0)
        self.fc7 = nn.Conv2d(fc, fc, 1)
        self.drop6, self.drop7 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.score_fr = nn.Conv2d(fc, num_classes, 1)

        def up(factor):  # bilinear, no bias; "same": pad factor/2 (output = factor × input)
            deconv = nn.ConvTranspose2d(num_classes, num_classes, 2 * factor, factor,
                                        padding=factor // 2 if same else 0, bias=False)
            with torch.no_grad():
                deconv.weight.copy_(bilinear_filter(num_classes, 2 * factor))
            return deconv

        if variant == "32s":
            self.upscore = up(32)
        else:
            self.score_pool4 = nn.Conv2d(widths[3], num_classes, 1)
            self.upscore2 = up(2)
            if variant == "16s":
                self.upscore16 = up(16)
            else:
                self.score_pool3 = nn.Conv2d(widths[2], num_classes, 1)
                self.upscore_pool4 = up(2)
                self.upscore8 = up(8)
        self.offsets = {k: 0 for k in REFERENCE_OFFSETS[variant]} if same else REFERENCE_OFFSETS[variant]

    def crop(self, x, key, like):
        o = self.offsets[key]
        return x[:, :, o:o + like.shape[2], o:o + like.shape[3]]

    def forward(self, images):
        pool = self.backbone(images)
        x = self.drop6(F.relu(self.fc6(pool[4])))
        x = self.drop7(F.relu(self.fc7(x)))
        scores = self.score_fr(x)
        if self.variant == "32s":
            return self.crop(self.upscore(scores), "output", images)
        upscore2 = self.upscore2(scores)
        pool4 = pool[3] * 0.01 if self.at_once else pool[3]
        fuse_pool4 = upscore2 + self.crop(self.score_pool4(pool4), "score_pool4", upscore2)
        if self.variant == "16s":
            return self.crop(self.upscore16(fuse_pool4), "output", images)
        upscore_pool4 = self.upscore_pool4(fuse_pool4)
        pool3 = pool[2] * 0.0001 if self.at_once else pool[2]
        fuse_pool3 = upscore_pool4 + self.crop(self.score_pool3(pool3), "score_pool3", upscore_pool4)
        return self.crop(self.upscore8(fuse_pool3), "output", images)


def count_macs(net, h, w):
    """Multiply-adds of the convs and deconvs at an h×w input, as core/mac_counter.h counts them:
    a conv N·K·Ho·Wo·(C/g)·k², a deconv those of the conv it is the adjoint of, N·C·H·W·K·k².
    Shapes only: the net runs on the meta device."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        taps = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):
            total += inputs[0].numel() * module.out_channels * taps
        else:
            total += output.numel() * (module.in_channels // module.groups) * taps

    net = net.to("meta").eval()
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, 3, h, w, device="meta"))
    return total


def count(net, deconvs=True):
    return sum(p.numel() for name, p in net.named_parameters() if deconvs or not name.startswith("upscore"))


def golden(path, net, images, labels, reduction, description):
    gen = torch.Generator().manual_seed(29)
    randomise_parameters(net, gen)  # deconvs and zero-initialised scores drawn at random too
    net.train()
    net_golden(path, net, images, labels, reduction=reduction, generator_name="tools/reference/fcn.py: " + description)


if __name__ == "__main__":
    for variant in ("32s", "16s", "8s"):
        net = FCN(variant, 21)
        print(f"fcn{variant}-full (21 classes): {count(net):,} parameters, {count(net, deconvs=False):,} "
              "without the (frozen) deconvs")
        print(f"  {count_macs(net, 500, 500):,} MACs at 500x500")

    tiny = dict(widths=(8, 16, 32, 32, 32), convs=(2, 2, 2, 2, 2), fc=64, fc6_kernel=3, same=True)
    micro = dict(widths=(2, 3, 3, 4, 4), convs=(2, 1, 1, 1, 1), fc=4, dropout=0.0)
    for variant in ("32s", "16s", "8s"):
        print(f"fcn{variant}-tiny (6 classes): {count(FCN(variant, 6, **tiny)):,} parameters, "
              f"{count_macs(FCN(variant, 6, **tiny), 64, 64):,} MACs at 64x64; micro (3 classes, pad 100): "
              f"{count_macs(FCN(variant, 3, **micro), 37, 50):,} MACs at 37x50")

    gen = torch.Generator().manual_seed(7)

    # FCN-8s, the reference pad-100 geometry and its crops, odd input sides, mean loss.
    images = torch.randn(2, 3, 7, 9, generator=gen)
    labels = torch.randint(0, 3, (2, 7, 9), generator=gen, dtype=torch.int32)
    labels[0, :2, :3] = 255
    golden("tests/golden/fcn8s.safetensors", FCN("8s", 3, **micro), images, labels, "mean",
           "FCN-8s, pad 100, widths 2-3-3-4-4, convs 2-1-1-1-1, fc 4 (7x7), 3 classes, 2x3x7x9")

    # FCN-16s, pad 100, summed loss (the reference's normalize: false).
    images = torch.randn(1, 3, 11, 6, generator=gen)
    labels = torch.randint(0, 2, (1, 11, 6), generator=gen, dtype=torch.int32)
    labels[0, 5:, 4:] = 255
    golden("tests/golden/fcn16s.safetensors", FCN("16s", 2, **micro), images, labels, "sum",
           "FCN-16s, pad 100, widths 2-3-3-4-4, convs 2-1-1-1-1, fc 4 (7x7), 2 classes, 1x3x11x6, sum")

    # FCN-8s at once in the tiny nets' "same" padding: skips scaled by 0.01 / 0.0001, no crops.
    images = torch.randn(1, 3, 32, 32, generator=gen)
    labels = torch.randint(0, 2, (1, 32, 32), generator=gen, dtype=torch.int32)
    labels[0, :4, :] = 255
    golden("tests/golden/fcn8s_atonce_same.safetensors",
           FCN("8s", 2, fc6_kernel=3, same=True, at_once=True, **micro), images, labels, "sum",
           "FCN-8s at once, same padding, widths 2-3-3-4-4, convs 2-1-1-1-1, fc 4 (3x3), 2 classes, 1x3x32x32, sum")

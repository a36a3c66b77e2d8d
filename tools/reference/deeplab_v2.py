#!/usr/bin/python3
# The PyTorch twin of nets/deeplab_v2.{h,cpp} and nets/multi_scale.{h,cpp} (DeepLab v2, Chen et al.,
# TPAMI 2018): ASPP — four parallel atrous branches on the backbone's stride-8 features whose
# class maps are summed — on VGG-16 (branch i: fc6_i 3×3 dilated 1024 → fc7_i 1×1 1024 → fc8_i 1×1
# C, dropout after fc6_i and fc7_i) or on ResNet-101 at output stride 8 (branch: fc1_c<i>, one 3×3
# dilated conv to C), and multi-scale inputs (scales 1, 0.75, 0.5 through the same weights, the
# smaller scales' maps upsampled to scale 1's, fused by pixel-wise max; four losses). Same parameter
# names as the C++ nets. Prints the full nets' parameter counts and writes three micro goldens:
# tests/golden/deeplab_v2_vgg.safetensors, deeplab_v2_resnet.safetensors, deeplab_v2_msc.safetensors.
#   /usr/bin/python3 tools/reference/deeplab_v2.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from deeplab_v1 import VGG16_CONVS, VGG16_WIDTHS, Vgg16LargeFov, count, score_map_loss, upsample
from golden import net_golden, randomise_parameters
from resnet import ResNet

FULL_RATES = (6, 12, 18, 24)


def scaled_size(n, scale):
    """The side of the input at `scale`, on Caffe's Interp grid: floor((n − 1)·scale) + 1
    (321 → 241 at 0.75, 161 at 0.5)."""
    return int((n - 1) * scale) + 1


class DeepLabV2(nn.Module):
    def __init__(self, num_classes=21, backbone="vgg", rates=FULL_RATES, scales=(1.0,), vgg_widths=VGG16_WIDTHS,
                 vgg_convs=VGG16_CONVS, fc_width=1024, dropout=0.5, resnet_blocks=(3, 4, 23, 3),
                 resnet_widths=(64, 128, 256, 512), stem_channels=64):
        super().__init__()
        self.kind, self.rates, self.scales, self.dropout = backbone, rates, scales, dropout
        if backbone == "vgg":
            self.backbone = Vgg16LargeFov(vgg_widths, vgg_convs)
            cin = self.backbone.out_channels
            for i, r in enumerate(rates, start=1):
                setattr(self, f"fc6_{i}", nn.Conv2d(cin, fc_width, 3, padding=r, dilation=r))
                setattr(self, f"fc7_{i}", nn.Conv2d(fc_width, fc_width, 1))
                setattr(self, f"fc8_{i}", nn.Conv2d(fc_width, num_classes, 1))
        else:
            self.backbone = ResNet(list(resnet_blocks), list(resnet_widths), stem_channels, output_stride=8)
            cin = 4 * resnet_widths[3]
            for i, r in enumerate(rates):
                setattr(self, f"fc1_c{i}", nn.Conv2d(cin, num_classes, 3, padding=r, dilation=r))

    def branch(self, i, features):
        if self.kind == "resnet":
            return getattr(self, f"fc1_c{i}")(features)
        x = F.dropout(F.relu(getattr(self, f"fc6_{i + 1}")(features)), self.dropout, self.training)
        x = F.dropout(F.relu(getattr(self, f"fc7_{i + 1}")(x)), self.dropout, self.training)
        return getattr(self, f"fc8_{i + 1}")(x)

    def score_map(self, x):
        features = self.backbone(x)
        return sum(self.branch(i, features) for i in range(len(self.rates)))

    def multi_scale(self, x):
        """(score map at each scale, their pixel-wise max at scale 1's size)."""
        h, w = x.shape[2:]
        per_scale = [self.score_map(x if s == 1 else upsample(x, scaled_size(h, s), scaled_size(w, s)))
                     for s in self.scales]
        fused = per_scale[0]
        for scores in per_scale[1:]:
            fused = torch.maximum(fused, upsample(scores, *per_scale[0].shape[2:]))
        return per_scale, fused

    def forward(self, x):
        _, fused = self.multi_scale(x)
        return upsample(fused, *x.shape[2:])

    def loss(self, x, labels):
        per_scale, fused = self.multi_scale(x)
        if len(per_scale) == 1:
            return score_map_loss(fused, labels)
        return sum(score_map_loss(s, labels) for s in per_scale) + score_map_loss(fused, labels)


def freeze_batch_norm_statistics(net):
    """The release's frozen BN, except that γ and β still learn here (so that the golden checks their
    gradients): every BN normalises with its running statistics and keeps them."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


def write_golden(path, net, gen, description):
    randomise_parameters(net, gen)
    with torch.no_grad():  # running statistics away from (0, 1), so that using them is visible
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    net.train()
    freeze_batch_norm_statistics(net)
    images = torch.randn(2, 3, 17, 20, generator=gen)
    labels = torch.randint(0, 3, (2, 17, 20), generator=gen, dtype=torch.int32)
    labels[:, 0, :5] = 255
    net_golden(path, net, images, labels, training_loss=lambda net, x, labels: net.loss(x, labels),
               generator_name=f"tools/reference/deeplab_v2.py: {description}")


if __name__ == "__main__":
    print("deeplabv2-full, VGG-16 (21 classes):", count(DeepLabV2(21, "vgg")))
    resnet = DeepLabV2(21, "resnet")
    backbone = count(resnet.backbone)
    print(f"deeplabv2-resnet-full (21 classes): {count(resnet)} = ResNet-101 {backbone} + ASPP {count(resnet) - backbone}")

    gen = torch.Generator().manual_seed(13)
    micro_vgg = dict(vgg_widths=(2, 3, 4, 4, 4), vgg_convs=(1, 1, 1, 1, 1), fc_width=5, dropout=0.0)
    micro_resnet = dict(resnet_blocks=(1, 1, 1, 2), resnet_widths=(2, 2, 2, 2), stem_channels=4)
    write_golden("tests/golden/deeplab_v2_vgg.safetensors", DeepLabV2(3, "vgg", (1, 2, 3, 4), **micro_vgg), gen,
                 "VGG widths 2-3-4-4-4, one conv a block, fc 5, rates 1-2-3-4, 3 classes, no dropout")
    write_golden("tests/golden/deeplab_v2_resnet.safetensors", DeepLabV2(3, "resnet", (1, 2, 3, 4), **micro_resnet),
                 gen, "ResNet blocks 1-1-1-2, widths 2, stem 4, OS 8, BN statistics frozen, rates 1-2-3-4, 3 classes")
    write_golden("tests/golden/deeplab_v2_msc.safetensors",
                 DeepLabV2(3, "resnet", (1, 2, 3, 4), scales=(1.0, 0.75, 0.5), **micro_resnet), gen,
                 "the ResNet micro net on scales 1, 0.75, 0.5, max-fused, four losses")

#!/usr/bin/python3
# The PyTorch twin of nets/aspp.{h,cpp} and nets/deeplab_v3.{h,cpp} (DeepLab v3, Chen et al. 2017):
# the improved ASPP (torchvision's module names, with an atrous separable option for v3+) and the
# net with its three heads (the paper's ASPP → logits, torchvision's extra 3×3 conv, the cascade of
# blocks 5–7). Prints the full configurations' parameter counts, checks that the torchvision head
# is torchvision's deeplabv3_resnet101 (same state_dict names and shapes, same output once its
# weights are loaded) and writes micro-width goldens for the C++ tests.
#   /usr/bin/python3 tools/reference/deeplab_v3.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters
from resnet import EXPANSION, Bottleneck, ResNet, count, dilate_for_output_stride


class ASPPConv(nn.Sequential):
    """conv k×k at `rate` ("same" padding, no bias) → BN → ReLU (torchvision's names 0, 1)."""

    def __init__(self, cin, cout, kernel, rate, bn):
        super().__init__(nn.Conv2d(cin, cout, kernel, padding=rate * (kernel - 1) // 2, dilation=rate, bias=False),
                         nn.BatchNorm2d(cout, **bn), nn.ReLU())


class SeparableConv(nn.Module):
    """layers/separable_conv2d.h: depthwise 3×3 at `rate` → BN → ReLU → pointwise 1×1 → BN → ReLU."""

    def __init__(self, cin, cout, rate, bn):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=rate, dilation=rate, groups=cin, bias=False)
        self.depthwise_bn = nn.BatchNorm2d(cin, **bn)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.pointwise_bn = nn.BatchNorm2d(cout, **bn)

    def forward(self, x):
        return F.relu(self.pointwise_bn(self.pointwise(F.relu(self.depthwise_bn(self.depthwise(x))))))


class ASPPPooling(nn.Sequential):
    """global average → 1×1 → BN → ReLU → bilinear back (names 1, 2 as torchvision's)."""

    def __init__(self, cin, cout, bn):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout, **bn),
                         nn.ReLU())

    def forward(self, x):
        return F.interpolate(super().forward(x), size=x.shape[2:], mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, cin, channels=256, rates=(6, 12, 18), separable=False, dropout=0.1, bn=None):
        super().__init__()
        bn = bn or {}
        branches = [ASPPConv(cin, channels, 1, 1, bn)]
        for r in rates:
            branches.append(SeparableConv(cin, channels, r, bn) if separable else ASPPConv(cin, channels, 3, r, bn))
        branches.append(ASPPPooling(cin, channels, bn))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(nn.Conv2d((len(rates) + 2) * channels, channels, 1, bias=False),
                                     nn.BatchNorm2d(channels, **bn), nn.ReLU(), nn.Dropout(dropout))

    def forward(self, x):
        return self.project(torch.cat([branch(x) for branch in self.convs], 1))


def rates_for_output_stride(output_stride, schedule=(16, (6, 12, 18))):
    """aspp_rates_for_output_stride: the schedule's rates scaled by its stride / output_stride."""
    reference, rates = schedule
    assert all(r * reference % output_stride == 0 for r in rates)
    return [r * reference // output_stride for r in rates]


class DeepLabV3(nn.Module):
    """head "aspp": classifier = [ASPP, logits]; "torchvision": [ASPP, 3×3, BN, ReLU, logits];
    "cascade": [block5, block6, …, logits], each block's base rate twice the previous one's."""

    def __init__(self, resnet, num_classes, schedule=(16, (6, 12, 18)), channels=256, dropout=0.1, head="aspp",
                 cascade_blocks=3):
        """resnet: dict(blocks, widths, stem_channels, output_stride, multi_grid) for resnet.ResNet."""
        super().__init__()
        self.backbone = ResNet(**resnet)
        features = EXPANSION * resnet["widths"][3]
        if head == "cascade":
            rate = dilate_for_output_stride([1, 2, 2, 2], 4, resnet["output_stride"])[3][2]
            grid = resnet["multi_grid"] or [1] * resnet["blocks"][3]
            modules = []
            for _ in range(cascade_blocks):
                rate *= 2
                modules.append(nn.Sequential(*[Bottleneck(features, resnet["widths"][3], 1, rate * m) for m in grid]))
            modules.append(nn.Conv2d(features, num_classes, 1))
        else:
            rates = rates_for_output_stride(resnet["output_stride"], schedule)
            modules = [ASPP(features, channels, rates, dropout=dropout)]
            if head == "torchvision":
                modules += [nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
                            nn.ReLU()]
            modules.append(nn.Conv2d(channels, num_classes, 1))
        self.classifier = nn.Sequential(*modules)

    def forward(self, x):
        logits = self.classifier(self.backbone(x))
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=False)


def resnet101(output_stride=16, multi_grid=(1, 2, 4)):
    """deeplab_resnet101: ResNet-101 with DeepLab v3's multi-grid in layer4."""
    return dict(blocks=[3, 4, 23, 3], widths=[64, 128, 256, 512], stem_channels=64, output_stride=output_stride,
                multi_grid=list(multi_grid) if multi_grid else None)


def resnet_tiny(output_stride=8):
    """deeplab_resnet_tiny: ResNetConfig::tiny with a third layer4 unit for multi-grid (1, 2, 4)."""
    return dict(blocks=[2, 2, 2, 3], widths=[8, 16, 32, 64], stem_channels=8, output_stride=output_stride,
                multi_grid=[1, 2, 4])


def resnet_micro(output_stride=8):
    """The goldens' backbone: stem 4, width 2 (8 channels out), one unit per stage, three in layer4."""
    return dict(blocks=[1, 1, 1, 3], widths=[2, 2, 2, 2], stem_channels=4, output_stride=output_stride,
                multi_grid=[1, 2, 4])


def full(num_classes=21, head="aspp"):
    return DeepLabV3(resnet101(16), num_classes, head=head)


def torchvision_form(num_classes=21):
    return DeepLabV3(resnet101(8, None), num_classes, dropout=0.5, head="torchvision")


def tiny(num_classes=6):
    return DeepLabV3(resnet_tiny(8), num_classes, (8, (1, 2, 3)), 32)


def micro(head):
    """ASPP width 3 at output stride 8, rates 1, 2, 3; dropout 0 (its mask cannot be matched); two
    cascade blocks; 3 classes."""
    return DeepLabV3(resnet_micro(8), 3, (8, (1, 2, 3)), 3, 0.0, head, cascade_blocks=2)


def check_against_torchvision():
    """Our torchvision head is torchvision's deeplabv3_resnet101 (aux_loss=False): state_dict names
    and shapes, parameter count, and the output once its (random) weights are loaded."""
    from torchvision.models.segmentation import deeplabv3_resnet101
    theirs = deeplabv3_resnet101(weights=None, weights_backbone=None, num_classes=21, aux_loss=False).eval()
    ours = torchvision_form(21).eval()
    state = {k: v for k, v in theirs.state_dict().items() if not k.endswith("num_batches_tracked")}
    mine = {k: v for k, v in ours.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert [(k, v.shape) for k, v in state.items()] == [(k, v.shape) for k, v in mine.items()]
    ours.load_state_dict(state, strict=False)
    x = torch.randn(1, 3, 65, 65, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        difference = (ours(x) - theirs(x)["out"]).abs().max().item()
    assert difference < 1e-4, difference
    with_aux = deeplabv3_resnet101(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    print(f"torchvision deeplabv3_resnet101: {count(theirs):,} without the aux head ({count(with_aux):,} with it); "
          f"ours, torchvision head: {count(ours):,}, same names and shapes, output max diff {difference:.2e}")


def golden(path, head, images_shape, seed):
    gen = torch.Generator().manual_seed(seed)
    net = micro(head)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(*images_shape, generator=gen)
    labels = torch.randint(0, 3, (images_shape[0],) + tuple(images_shape[2:]), generator=gen, dtype=torch.int32)
    labels[:, 0, :2] = 255
    net_golden(path, net, images, labels,
               generator_name=f"tools/reference/deeplab_v3.py: micro ResNet (stem 4, width 2, layer4 multi-grid "
                              f"1,2,4), output stride 8, ASPP width 3, head {head}, 3 classes")


if __name__ == "__main__":
    print(f"deeplabv3-full (ResNet-101, OS 16, paper head, 21 classes): {count(full()):,}")
    print(f"deeplabv3 cascade (blocks 5-7, 21 classes): {count(full(head='cascade')):,}")
    print(f"deeplabv3-tiny (6 classes): {count(tiny()):,}")
    check_against_torchvision()
    golden("tests/golden/deeplab_v3.safetensors", "aspp", (2, 3, 24, 24), 11)
    golden("tests/golden/deeplab_v3_torchvision.safetensors", "torchvision", (2, 3, 16, 16), 12)
    golden("tests/golden/deeplab_v3_cascade.safetensors", "cascade", (2, 3, 16, 16), 13)

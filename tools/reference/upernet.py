#!/usr/bin/python3
# The PyTorch twin of nets/upernet.{h,cpp} (UperNet, Xiao et al. 2018) with the same parameter
# names: mmsegmentation's UPerHead (decode_head.psp_modules.{i}.1, bottleneck, lateral_convs.{i},
# fpn_convs.{i}, fpn_bottleneck, conv_seg) on the twin ResNet of tools/reference/resnet.py, plus
# the Unified Perceptual Parsing heads of CSAILVision/unifiedparsing (decode_head.scene_head,
# part_head, material_head) and a texture head on detached C3 (texture_head). Prints the parameter
# counts and writes two golden training steps at micro width: tests/golden/upernet.safetensors
# (object loss only) and tests/golden/upernet_multitask.safetensors (object + 0.5 part inside
# objects + 0.25 scene + material + texture, every label in the batch).
#   /usr/bin/python3 tools/reference/upernet.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters
from pspnet import PPM, ConvModule
from resnet import ResNet


def up(x, like):
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)


class UPerHead(nn.Module):
    def __init__(self, in_channels, classes, channels, bins, dropout, scenes, parts, materials):
        super().__init__()
        self.psp_modules = PPM(bins, in_channels[3], channels, False)
        self.bottleneck = ConvModule(in_channels[3] + len(bins) * channels, channels, 3)
        self.lateral_convs = nn.ModuleList([ConvModule(c, channels, 1) for c in in_channels[:3]])
        self.fpn_convs = nn.ModuleList([ConvModule(channels, channels, 3) for _ in range(3)])
        self.fpn_bottleneck = ConvModule(4 * channels, channels, 3)
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(channels, classes, 1)
        if scenes:
            self.scene_head = nn.Sequential(ConvModule(channels, channels, 3), nn.AdaptiveAvgPool2d(1),
                                            nn.Conv2d(channels, scenes, 1))
        if parts:
            self.part_head = nn.Sequential(ConvModule(channels, channels, 3), nn.Conv2d(channels, parts, 1))
        if materials:
            self.material_head = nn.Sequential(ConvModule(channels, channels, 3), nn.Conv2d(channels, materials, 1))

    def pyramid(self, c2, c3, c4, c5):
        p5 = self.bottleneck(self.psp_modules(c5))
        m4 = self.lateral_convs[2](c4) + up(p5, c4)
        m3 = self.lateral_convs[1](c3) + up(m4, c3)
        m2 = self.lateral_convs[0](c2) + up(m3, c2)
        return [self.fpn_convs[0](m2), self.fpn_convs[1](m3), self.fpn_convs[2](m4), p5]

    def fuse(self, p):
        return self.fpn_bottleneck(torch.cat([p[0]] + [up(level, p[0]) for level in p[1:]], 1))


class UperNet(nn.Module):
    def __init__(self, classes, blocks=(3, 4, 6, 3), widths=(64, 128, 256, 512), stem=64, channels=512,
                 bins=(1, 2, 3, 6), dropout=0.1, scenes=0, parts=0, materials=0, textures=0,
                 texture_channels=128, texture_convs=4):
        super().__init__()
        self.backbone = ResNet(list(blocks), list(widths), stem, output_stride=32)
        ins = [4 * w for w in widths]
        self.decode_head = UPerHead(ins, classes, channels, bins, dropout, scenes, parts, materials)
        if textures:
            convs = [ConvModule(ins[1] if i == 0 else texture_channels, texture_channels, 3)
                     for i in range(texture_convs)]
            self.texture_head = nn.Sequential(*convs, nn.Conv2d(texture_channels, textures, 1))

    def forward(self, x):
        f = self.backbone.features(x)
        p = self.decode_head.pyramid(f["layer1"], f["layer2"], f["layer3"], f["layer4"])
        h = self.decode_head
        return up(h.conv_seg(h.dropout(h.fuse(p))), x)

    def training_loss(self, x, labels, parts, materials, scenes, textures):
        """Every head on, as the C++ net with a batch that carries every label."""
        f = self.backbone.features(x)
        h = self.decode_head
        p = h.pyramid(f["layer1"], f["layer2"], f["layer3"], f["layer4"])
        fused = h.fuse(p)
        ce = lambda z, y: F.cross_entropy(z, y, ignore_index=255)
        inside = (labels != 0) & (labels != 255)
        part_targets = torch.where(inside, parts, torch.full_like(parts, 255))
        texture_map = self.texture_head(f["layer2"].detach())
        texture_targets = textures.view(-1, 1, 1).expand(-1, *texture_map.shape[2:])
        return (0.25 * ce(h.scene_head(p[3]).flatten(1), scenes) + ce(up(h.material_head(p[0]), x), materials)
                + ce(up(h.conv_seg(h.dropout(fused)), x), labels) + 0.5 * ce(up(h.part_head(fused), x), part_targets)
                + ce(texture_map, texture_targets))


def count(net):
    return sum(p.numel() for p in net.parameters())


if __name__ == "__main__":
    for classes in (21, 150):
        net = UperNet(classes)
        total = count(net)
        # mmseg's upernet_r50 adds the ResNetV1c deep stem (+19,232) and an FCNHead on layer3
        # (3×3 conv 1024 → 256 + BN, 1×1 256 → classes).
        aux = 1024 * 256 * 9 + 2 * 256 + 256 * classes + classes
        print(f"upernet r50 ({classes} classes): {total:,}; with mmseg's deep stem and auxiliary head: "
              f"{total + 19232 + aux:,}")
    r101 = count(UperNet(150, blocks=(3, 4, 23, 3))) + 19232 + 1024 * 256 * 9 + 2 * 256 + 256 * 150 + 150
    print(f"upernet r101 (150 classes) as mmseg's upernet_r101: {r101:,}")
    print(f"upernet-multitask r50 (21 objects, Broden+ heads 365/152/25/47): "
          f"{count(UperNet(21, scenes=365, parts=152, materials=25, textures=47)):,}")
    tiny = dict(blocks=(2, 2, 2, 2), widths=(8, 16, 32, 64), stem=8, channels=32, texture_channels=16)
    print(f"upernet-tiny (6 classes): {count(UperNet(6, **tiny)):,}")
    print(f"upernet-multitask-tiny (6 classes): "
          f"{count(UperNet(6, scenes=4, parts=2, materials=5, textures=4, **tiny)):,}")

    # Micro: one unit per stage, widths 2 (stage outputs 8), stem 4, width 4, 3 classes, dropout 0
    # (its masks are random draws the two engines cannot share). 20×20: C2…C5 are 5, 3, 2, 1 wide,
    # so every upsampling has a non-integer ratio and bins 2, 3, 6 repeat C5's one pixel.
    micro = dict(blocks=(1, 1, 1, 1), widths=(2, 2, 2, 2), stem=4, channels=4, dropout=0.0)
    gen = torch.Generator().manual_seed(7)
    net = UperNet(3, **micro)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 20, 20, generator=gen)
    labels = torch.randint(0, 3, (2, 20, 20), generator=gen, dtype=torch.int32)
    labels[:, :2, :5] = 255
    net_golden("tests/golden/upernet.safetensors", net, images, labels,
               generator_name="tools/reference/upernet.py: micro single-task (units 1-1-1-1, widths 2, stem 4, "
                              "width 4, 3 classes, dropout 0), 20×20")

    gen = torch.Generator().manual_seed(8)
    net = UperNet(3, scenes=3, parts=2, materials=3, textures=3, texture_channels=3, **micro)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 20, 20, generator=gen)
    labels = torch.randint(0, 3, (2, 20, 20), generator=gen, dtype=torch.int32)
    labels[:, :2, :5] = 255
    parts = torch.randint(0, 2, (2, 20, 20), generator=gen, dtype=torch.int32)
    parts[labels == 0] = 255  # as the toy data: no part on the background
    materials = torch.randint(0, 3, (2, 20, 20), generator=gen, dtype=torch.int32)
    scenes = torch.tensor([2, 0], dtype=torch.int32)
    textures = torch.tensor([1, 2], dtype=torch.int32)
    extra = dict(parts=parts, materials=materials, scenes=scenes, textures=textures)
    net_golden("tests/golden/upernet_multitask.safetensors", net, images, labels,
               training_loss=lambda n, x, y: n.training_loss(x, y, parts.long(), materials.long(), scenes.long(),
                                                             textures.long()),
               extra=extra,
               generator_name="tools/reference/upernet.py: micro multi-task (single-task micro + 3 scenes, "
                              "2 parts, 3 materials, 3 textures on 4 convs of 3), 20×20, every head on")

#!/usr/bin/python3
# The PyTorch twin of nets/backbones/resnet.{h,cpp}, shared by the twins of the nets built on
# ResNet (DeepLab v2, PSPNet, DeepLab v3/v3+, RefineNet, UperNet): torchvision's bottleneck
# ResNet ("v1.5", stride on the 3×3) without avgpool/fc, with the output-stride rewrite
# (torchvision's replace_stride_with_dilation, generalised to any reachable stride) and
# DeepLab v3's multi-grid. Parameter names are torchvision's.
#   /usr/bin/python3 tools/reference/resnet.py    prints the full configurations' counts
import torch.nn as nn
import torch.nn.functional as F

EXPANSION = 4


def dilate_for_output_stride(stage_strides, input_stride, output_stride):
    """[(stride, first_dilation, dilation)] per stage, as dilate_for_output_stride in C++."""
    stages, current, dilation = [], input_stride, 1
    for s in stage_strides:
        first = dilation
        if current * s > output_stride:
            dilation *= s
            stages.append((1, first, dilation))
        else:
            current *= s
            stages.append((s, first, dilation))
    assert current == output_stride, f"output stride {output_stride} not reachable"
    return stages


class Bottleneck(nn.Module):
    def __init__(self, in_channels, width, stride, dilation):
        super().__init__()
        out = EXPANSION * width
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or in_channels != out:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, blocks, widths, stem_channels=64, output_stride=32, multi_grid=None):
        super().__init__()
        geometry = dilate_for_output_stride([1, 2, 2, 2], 4, output_stride)
        self.conv1 = nn.Conv2d(3, stem_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = stem_channels
        for s, ((stride, first, dilation), count, width) in enumerate(zip(geometry, blocks, widths)):
            units = []
            for u in range(count):
                if s == 3 and multi_grid:
                    rate = dilation * multi_grid[u]
                else:
                    rate = first if u == 0 else dilation
                units.append(Bottleneck(channels, width, stride if u == 0 else 1, rate))
                channels = EXPANSION * width
            setattr(self, f"layer{s + 1}", nn.Sequential(*units))

    def features(self, x):
        """{stem, layer1, …, layer4}, as ResNetFeatures."""
        f = {"stem": F.relu(self.bn1(self.conv1(x)))}
        f["layer1"] = self.layer1(self.maxpool(f["stem"]))
        f["layer2"] = self.layer2(f["layer1"])
        f["layer3"] = self.layer3(f["layer2"])
        f["layer4"] = self.layer4(f["layer3"])
        return f

    def forward(self, x):
        return self.features(x)["layer4"]


def resnet50(output_stride=32, multi_grid=None):
    return ResNet([3, 4, 6, 3], [64, 128, 256, 512], 64, output_stride, multi_grid)


def resnet101(output_stride=32, multi_grid=None):
    return ResNet([3, 4, 23, 3], [64, 128, 256, 512], 64, output_stride, multi_grid)


def count(net):
    return sum(p.numel() for p in net.parameters())


if __name__ == "__main__":
    fc = 2048 * 1000 + 1000
    for name, net, torchvision_count in (("resnet50", resnet50(), 25557032), ("resnet101", resnet101(), 44549160)):
        n = count(net)
        print(f"{name} without fc: {n:,} (+ fc {fc:,} = {n + fc:,}; torchvision: {torchvision_count:,})")
        assert n + fc == torchvision_count

#!/usr/bin/python3
# The PyTorch twin of nets/deeplab_v3plus.{h,cpp} (DeepLab v3+, Chen et al. 2018) on ResNet: the v3
# encoder (tools/reference/deeplab_v3.py's ASPP, optionally atrous separable) and TF DeepLab's
# decoder (1×1 48 on the stride-4 features, the encoder output resized to them, concatenation, two
# 3×3 convs, plain or separable), bilinear with align_corners = True. The backbone is any module
# whose features(x) holds the low-level (stride 4) and high-level maps under the given keys, so the
# Xception twin (tools/reference/xception.py) plugs in as ResNet does. Prints the full
# configuration's parameter count and writes micro-width goldens for the C++ tests.
#   /usr/bin/python3 tools/reference/deeplab_v3plus.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from deeplab_v3 import ASPP, ASPPConv, SeparableConv, rates_for_output_stride, resnet101, resnet_micro, resnet_tiny
from golden import net_golden, randomise_parameters
from resnet import ResNet, count


class Decoder(nn.Module):
    def __init__(self, encoder_channels, low_level_channels, projection=48, channels=256, separable=False, bn=None):
        super().__init__()
        bn = bn or {}
        self.feature_projection = ASPPConv(low_level_channels, projection, 1, 1, bn)

        def conv(cin):
            return SeparableConv(cin, channels, 1, bn) if separable else ASPPConv(cin, channels, 3, 1, bn)

        self.conv0 = conv(encoder_channels + projection)
        self.conv1 = conv(channels)

    def forward(self, encoder_output, low_level):
        low = self.feature_projection(low_level)
        up = F.interpolate(encoder_output, size=low_level.shape[2:], mode="bilinear", align_corners=True)
        return self.conv1(self.conv0(torch.cat([up, low], 1)))


class DeepLabV3Plus(nn.Module):
    def __init__(self, backbone, keys, channels, output_stride, num_classes, schedule=(16, (6, 12, 18)),
                 aspp_channels=256, dropout=0.1, projection=48, decoder_channels=256, separable=False, bn=None):
        """keys: (low-level key, high-level key) of backbone.features(x); channels: their channels."""
        super().__init__()
        self.backbone, self.keys = backbone, keys
        rates = rates_for_output_stride(output_stride, schedule)
        self.aspp = ASPP(channels[1], aspp_channels, rates, separable, dropout, bn)
        self.decoder = Decoder(aspp_channels, channels[0], projection, decoder_channels, separable, bn)
        self.classifier = nn.Conv2d(decoder_channels, num_classes, 1)

    def forward(self, x):
        f = self.backbone.features(x)
        y = self.decoder(self.aspp(f[self.keys[1]]), f[self.keys[0]])
        return F.interpolate(self.classifier(y), size=x.shape[2:], mode="bilinear", align_corners=True)


def on_resnet(resnet, num_classes, **kwargs):
    """resnet: a deeplab_v3.py backbone dict; low-level = layer1, high-level = layer4."""
    channels = (4 * resnet["widths"][0], 4 * resnet["widths"][3])
    return DeepLabV3Plus(ResNet(**resnet), ("layer1", "layer4"), channels, resnet["output_stride"], num_classes,
                         **kwargs)


def micro(output_stride, separable):
    """deeplab_v3.py's micro ResNet; ASPP width 3, projection 2, decoder width 3, dropout 0, 3 classes."""
    return on_resnet(resnet_micro(output_stride), 3, schedule=(output_stride, (1, 2, 3)), aspp_channels=3, dropout=0.0,
                     projection=2, decoder_channels=3, separable=separable)


def golden(path, output_stride, separable, images_shape, seed):
    gen = torch.Generator().manual_seed(seed)
    net = micro(output_stride, separable)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(*images_shape, generator=gen)
    labels = torch.randint(0, 3, (images_shape[0],) + tuple(images_shape[2:]), generator=gen, dtype=torch.int32)
    labels[:, -1, -3:] = 255
    net_golden(path, net, images, labels,
               generator_name=f"tools/reference/deeplab_v3plus.py: micro ResNet, output stride {output_stride}, rates "
                              f"1,2,3, widths 3/2/3, separable {separable}, 3 classes")


if __name__ == "__main__":
    print(f"deeplabv3plus-full (ResNet-101, OS 16, 21 classes): {count(on_resnet(resnet101(16), 21)):,}")
    print(f"  with separable ASPP and decoder: {count(on_resnet(resnet101(16), 21, separable=True)):,}")
    tiny = on_resnet(resnet_tiny(8), 6, schedule=(8, (1, 2, 3)), aspp_channels=32, projection=8, decoder_channels=32)
    print(f"deeplabv3plus-tiny (6 classes): {count(tiny):,}")
    # Output stride 16: the decoder upsamples the encoder ×4 (2×1 → 8×4 at 32×16).
    golden("tests/golden/deeplab_v3plus.safetensors", 16, False, (2, 3, 32, 16), 21)
    # Output stride 8, atrous separable ASPP and decoder: ×2 (2×2 → 4×4 at 16×16).
    golden("tests/golden/deeplab_v3plus_separable.safetensors", 8, True, (2, 3, 16, 16), 22)

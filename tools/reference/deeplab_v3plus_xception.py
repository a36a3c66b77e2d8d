#!/usr/bin/python3
# The PyTorch twin of nets/deeplab_v3plus_xception.{h,cpp}: DeepLab v3+ (Chen et al. 2018) on
# aligned Xception-65 (tools/reference/xception.py) with atrous separable ASPP and decoder convs
# (tools/reference/deeplab_v3plus.py). Prints the full and tiny parameter counts and writes the
# micro-width golden for tests/test_deeplab_v3plus_xception.cpp.
#   /usr/bin/python3 tools/reference/deeplab_v3plus_xception.py    (run from the repo root)
import torch

import xception
from deeplab_v3plus import DeepLabV3Plus
from golden import net_golden, randomise_parameters
from resnet import count


def on_xception(backbone, output_stride, num_classes, **kwargs):
    """backbone: an xception.Xception; low-level = entry block 2's sepconv2, high-level = exit flow."""
    channels = (backbone.entry_flow.block2.sepconv2.pointwise.out_channels,
                backbone.exit_flow.block2.sepconv3.pointwise.out_channels)
    return DeepLabV3Plus(backbone, ("low_level", "exit_flow"), channels, output_stride, num_classes, separable=True,
                         **kwargs)


def full(num_classes=21):
    """TF DeepLab's xception_65 variant at output stride 16; heads' batch norm decay 0.9997, epsilon 1e-5."""
    return on_xception(xception.xception65(16), 16, num_classes, bn=dict(eps=1e-5, momentum=0.0003))


def tiny(num_classes=6):
    return on_xception(xception.tiny(8), 8, num_classes, schedule=(8, (1, 2, 3)), aspp_channels=32, projection=8,
                       decoder_channels=32)


if __name__ == "__main__":
    backbone = count(xception.xception65(16))
    net = count(full())
    print(f"deeplabv3plus-xception-full (aligned Xception-65, OS 16, 21 classes): {net:,} "
          f"(backbone {backbone:,}, ASPP + decoder + logits {net - backbone:,})")
    print(f"deeplabv3plus-xception-tiny (6 classes): {count(tiny()):,}")
    # Output stride 16 (the backbone golden covers 8): entry block 3 strided, exit block 2 at rate
    # 2, the decoder upsamples the encoder ×4 (2×2 → 5×6 at 18×22), ASPP rates 1, 2, 3.
    gen = torch.Generator().manual_seed(31)
    net = on_xception(xception.micro(16), 16, 3, schedule=(16, (1, 2, 3)), aspp_channels=3, dropout=0.0, projection=2,
                      decoder_channels=3)
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 18, 22, generator=gen)
    labels = torch.randint(0, 3, (2, 18, 22), generator=gen, dtype=torch.int32)
    labels[:, -1, -3:] = 255
    net_golden("tests/golden/deeplab_v3plus_xception.safetensors", net, images, labels,
               generator_name="tools/reference/deeplab_v3plus_xception.py: micro aligned Xception, output stride 16, "
                              "separable ASPP (rates 1,2,3) and decoder, widths 3/2/3, 3 classes")

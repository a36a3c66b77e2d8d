#!/usr/bin/python3
# The PyTorch twin of nets/segnet.{h,cpp} (SegNet, Badrinarayanan et al. 2017): same modules,
# same parameter names. Prints the full net's parameter count and writes one golden training step
# at micro width, with median-frequency class weights in the loss, to tests/golden/segnet.safetensors.
#   /usr/bin/python3 tools/reference/segnet.py    (run from the repo root)
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden import net_golden, randomise_parameters


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SegNet(nn.Module):
    def __init__(self, num_classes, channels=(64, 128, 256, 512, 512), convs=(2, 2, 3, 3, 3), in_channels=3):
        super().__init__()
        self.encoder = nn.ModuleList()
        cin = in_channels
        for c, n in zip(channels, convs):
            stage = nn.Sequential()
            for _ in range(n):
                stage.append(ConvBnRelu(cin, c))
                cin = c
            self.encoder.append(stage)
        self.decoder = nn.ModuleList()
        for s, (c, n) in enumerate(zip(channels, convs)):
            out = c if s == 0 else channels[s - 1]
            count = n - 1 if s == 0 else n
            self.decoder.append(nn.Sequential(*[ConvBnRelu(c, out if i == count - 1 else c) for i in range(count)]))
        self.classifier = nn.Conv2d(channels[0], num_classes, 3, padding=1)

    def forward(self, x):
        indices, sizes = [], []
        for stage in self.encoder:
            x = stage(x)
            sizes.append(x.shape[2:])
            x, idx = F.max_pool2d(x, 2, 2, return_indices=True)
            indices.append(idx)
        for s in reversed(range(len(self.encoder))):
            x = F.max_unpool2d(x, indices[s], 2, 2, output_size=sizes[s])
            x = self.decoder[s](x)
        return self.classifier(x)


if __name__ == "__main__":
    for classes in (21, 11):
        print(f"segnet-full ({classes} classes):", sum(p.numel() for p in SegNet(classes).parameters()))

    gen = torch.Generator().manual_seed(11)
    net = SegNet(3, channels=(2, 3, 4), convs=(1, 2, 2))
    randomise_parameters(net, gen)
    net.train()
    images = torch.randn(2, 3, 8, 8, generator=gen)
    labels = torch.randint(0, 3, (2, 8, 8), generator=gen, dtype=torch.int32)
    labels[:, 0, :3] = 255
    weights = torch.tensor([0.5, 1.25, 2.0])

    def weighted_loss(net, x, labels):
        return F.cross_entropy(net(x), labels, weight=weights.double(), ignore_index=255)

    net_golden("tests/golden/segnet.safetensors", net, images, labels, training_loss=weighted_loss,
               extra={"class_weights": weights},
               generator_name="tools/reference/segnet.py: channels 2-3-4, convs 1-2-2, 3 classes, class weights")

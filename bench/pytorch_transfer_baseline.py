"""The PyTorch transfer-learning tutorial recipe, timed, as the baseline for bench:train.

torchvision MobileNetV2 (width 0.35), CPU, 2 threads. Like the tutorial it decodes and
augments every image and re-runs the frozen base on every epoch: phase 1 trains the new
classifier with the base frozen, phase 2 unfreezes the same top of the base that Graft
fine-tunes (last inverted-residual block + final 1x1 conv) at a 10x lower learning rate.
Weights are random (no ImageNet weights offline): the timing is what is compared.
Prints one JSON object.
"""
import json
import sys
import time

import torch
from torch import nn, optim
from torchvision import datasets, models, transforms


def main() -> None:
    data_dir = sys.argv[1]
    head_epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    fine_epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    torch.set_num_threads(2)
    torch.manual_seed(0)
    normalize = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tfms = {
        "train": transforms.Compose([
            transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
            transforms.ToTensor(), normalize]),
        "val": transforms.Compose([
            transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), normalize]),
    }
    sets = {s: datasets.ImageFolder(f"{data_dir}/{s}", tfms[s]) for s in ("train", "val")}
    # The tutorial's batch size; 0 loader workers was the fastest setting on 2 cores.
    loaders = {s: torch.utils.data.DataLoader(sets[s], batch_size=4, shuffle=(s == "train"),
                                              num_workers=0) for s in sets}
    model = models.mobilenet_v2(width_mult=0.35)
    model.classifier[1] = nn.Linear(model.last_channel, len(sets["train"].classes))
    criterion = nn.CrossEntropyLoss()

    def run(epochs: int, params, lr: float) -> dict:
        optimizer = optim.Adam(params, lr=lr)
        start = time.perf_counter()
        accuracy = 0.0
        for _ in range(epochs):
            for phase in ("train", "val"):
                model.train(phase == "train")
                correct = 0
                for inputs, labels in loaders[phase]:
                    optimizer.zero_grad()
                    with torch.set_grad_enabled(phase == "train"):
                        outputs = model(inputs)
                        loss = criterion(outputs, labels)
                        if phase == "train":
                            loss.backward()
                            optimizer.step()
                    correct += (outputs.argmax(1) == labels).sum().item()
                if phase == "val":
                    accuracy = correct / len(sets["val"])
        return {"seconds": time.perf_counter() - start, "valAccuracy": accuracy}

    started = time.perf_counter()
    for p in model.features.parameters():
        p.requires_grad = False
    head = run(head_epochs, model.classifier.parameters(), 1e-3)
    top = list(model.features[-2:].parameters())
    for p in top:
        p.requires_grad = True
    fine = run(fine_epochs, top + list(model.classifier.parameters()), 1e-4)
    print(json.dumps({
        "recipe": "PyTorch transfer-learning tutorial, torchvision mobilenet_v2(width_mult=0.35)",
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "headEpochs": head_epochs, "fineTuneEpochs": fine_epochs,
        "phases": {"featureExtraction": head, "fineTuning": fine},
        "wallSeconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()

"""PyTorch's bare forward pass, as the reference line for Graft's inference rates.

torchvision MobileNetV2 (width 0.35) in eval mode, CPU, 2 threads, no autograd, random input
at 224 px (weights are random: no ImageNet weights offline, and the timing is what is
compared). After a warm-up it runs timed rounds at batch 16 and at batch 1, each for about
--seconds, and reports rates from the median round, so that a busy neighbour's spike moves
them less (the mean-based rates are printed too). Prints one JSON object.

    /usr/bin/python3 bench/pytorch_forward.py [--seconds 5]
"""
import argparse
import json
import statistics
import time

import torch
from torchvision import models

THREADS = 2
SIZE = 224


def timed_rounds(model: torch.nn.Module, batch: int, seconds: float) -> list:
    """Seconds per forward pass of `batch` images, for at least `seconds` (3 passes minimum)."""
    inputs = torch.rand(batch, 3, SIZE, SIZE) * 2 - 1
    for _ in range(3):
        model(inputs)
    durations = []
    started = time.perf_counter()
    while len(durations) < 3 or time.perf_counter() - started < seconds:
        tick = time.perf_counter()
        model(inputs)
        durations.append(time.perf_counter() - tick)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="time spent on each measurement (default 5)")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = models.mobilenet_v2(width_mult=0.35).eval()
    with torch.no_grad():
        batch16 = timed_rounds(model, 16, args.seconds)
        batch1 = timed_rounds(model, 1, args.seconds)
    print(json.dumps({
        "model": "torchvision mobilenet_v2(width_mult=0.35), eval, no_grad, 224 px",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch16ImagesPerSecond": round(16 / statistics.median(batch16), 1),
        "batch1ImagesPerSecond": round(1 / statistics.median(batch1), 1),
        "batch1P50Ms": round(statistics.median(batch1) * 1000, 2),
        "meanRates": {"batch16": round(16 * len(batch16) / sum(batch16), 1),
                      "batch1": round(len(batch1) / sum(batch1), 1)},
        "rounds": {"batch16": len(batch16), "batch1": len(batch1)},
    }))


if __name__ == "__main__":
    main()

"""Make the PyTorch parity fixtures in Tests/Fixtures/parity/.

For each zoo model (mlp, cnn, resnet8, default arguments: 1 channel, 10
classes, 28x28 inputs) this writes two safetensors files:

  <name>.weights.safetensors   the freshly initialised float32 state_dict,
                               saved the way PyTorch users save checkpoints
                               (safetensors.torch.save_file), with the
                               checkpoint metadata of shared/spec/checkpoint.md.
  <name>.expected.safetensors  a batch of 8 random inputs and labels and what
                               PyTorch computes from them in float64: train-mode
                               logits, the mean cross-entropy (plain and with
                               label smoothing 0.1), the gradient of every
                               parameter, the BatchNorm running statistics after
                               that forward pass, the parameters after one SGD
                               step (lr 0.1, momentum 0.9, weight decay 5e-4),
                               and eval-mode logits after the step. Stored as
                               float32 (labels as int64).

The model definitions come from the shared reference file
shared/reference/models.py next to the repository root (override with
--models-py). Everything is seeded, so a rerun reproduces the files:

    python3 Tests/Fixtures/make_parity_fixtures.py

This script needs torch and safetensors; the Swift tests only read its outputs.
"""
import argparse
import copy
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

sys.dont_write_bytecode = True
from reference_zoo import DEFAULT_MODELS_PY, load_zoo  # noqa: E402

MODELS = ("mlp", "cnn", "resnet8")
BATCH = 8
CHANNELS, CLASSES, SIDE = 1, 10, 28
LABEL_SMOOTHING = 0.1
SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0005}

ARCHITECTURES = {
    "mlp": {"name": "mlp", "inputs": 784, "hidden": 256, "classes": CLASSES,
            "channels": CHANNELS, "side": SIDE},
    "cnn": {"name": "cnn", "channels": CHANNELS, "classes": CLASSES, "side": SIDE},
    "resnet8": {"name": "resnet8", "channels": CHANNELS, "classes": CLASSES, "side": SIDE},
}

OUT_DIR = Path(__file__).resolve().parent / "parity"


def compact_json(value):
    return json.dumps(value, separators=(",", ":"))




def reference(model, x, labels):
    """Train step of a float64 copy of `model`; returns the tensors to store."""
    model = copy.deepcopy(model).double().train()
    params = dict(model.named_parameters())
    batch_norms = [name for name, m in model.named_modules()
                   if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    logits = model(x.double())
    loss = F.cross_entropy(logits, labels)
    loss_smoothed = F.cross_entropy(logits.detach(), labels, label_smoothing=LABEL_SMOOTHING)
    loss.backward()

    out = {"logits": logits.detach(), "loss": loss.detach(), "loss_smoothed": loss_smoothed}
    out.update({f"grad.{name}": p.grad.detach().clone() for name, p in params.items()})
    # The train forward above updated the running statistics once; the SGD step
    # and the eval forward below leave them unchanged.
    buffers = dict(model.named_buffers())
    for name in batch_norms:
        for stat in ("running_mean", "running_var"):
            out[f"after.{name}.{stat}"] = buffers[f"{name}.{stat}"].detach().clone()

    torch.optim.SGD(model.parameters(), **SGD).step()
    out.update({f"after.{name}": p.detach().clone() for name, p in params.items()})

    model.eval()
    with torch.no_grad():
        out["eval_logits"] = model(x.double())
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-py", type=Path, default=DEFAULT_MODELS_PY,
                        help="the shared reference model zoo (default: %(default)s)")
    args = parser.parse_args()

    zoo = load_zoo(args.models_py.resolve())
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    total = 0
    for index, name in enumerate(MODELS):
        torch.manual_seed(1234 + index)
        model = zoo[name]().float()
        x = torch.randn(BATCH, CHANNELS, SIDE, SIDE, dtype=torch.float32)
        labels = torch.randint(0, CLASSES, (BATCH,), dtype=torch.int64)

        weights_path = OUT_DIR / f"{name}.weights.safetensors"
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(weights_path), {
            "architecture": compact_json(ARCHITECTURES[name]),
            "format": "landscape-checkpoint/1",
            "dataset": "synthetic",
            "preprocessing": "none",
        })

        ref = reference(model, x, labels)
        expected = {"input": x.contiguous(), "labels": labels}
        expected.update({k: v.float().contiguous() for k, v in ref.items()})
        expected_path = OUT_DIR / f"{name}.expected.safetensors"
        save_file(expected, str(expected_path), {
            "sgd": compact_json(SGD),
            "label_smoothing": str(LABEL_SMOOTHING),
            "batch": str(BATCH),
            "torch": torch.__version__,
        })

        sizes = [p.stat().st_size for p in (weights_path, expected_path)]
        total += sum(sizes)
        max_grad = max(v.abs().max().item() for k, v in ref.items() if k.startswith("grad."))
        print(f"{name}: weights {sizes[0]} B, expected {sizes[1]} B, "
              f"loss {ref['loss'].item():.10f}, loss_smoothed {ref['loss_smoothed'].item():.10f}, "
              f"max |grad| {max_grad:.6e}")
    print(f"total {total} B")


if __name__ == "__main__":
    main()

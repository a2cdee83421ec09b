"""Checks that a checkpoint written by landscape loads into the reference PyTorch model.

    python3 Tests/Fixtures/check_checkpoint_in_pytorch.py [CHECKPOINT]

Loads the file (default: Tests/Fixtures/checkpoint/cnn-seed7.safetensors) with safetensors, builds
the model its `architecture` metadata names from shared/reference/models.py, calls
`load_state_dict(strict=True)`, runs a forward pass in eval mode and prints what it loaded. Needs
torch and safetensors; the Swift tests only read the fixture.
"""
import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.dont_write_bytecode = True
from reference_zoo import DEFAULT_MODELS_PY, load_zoo  # noqa: E402

HERE = Path(__file__).resolve().parent




def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", default=str(HERE / "checkpoint" / "cnn-seed7.safetensors"))
    parser.add_argument("--models-py", default=str(DEFAULT_MODELS_PY))
    args = parser.parse_args()

    with safe_open(args.checkpoint, framework="pt") as handle:
        metadata = handle.metadata()
    architecture = json.loads(metadata["architecture"])
    zoo = load_zoo(args.models_py)
    kwargs = {key: architecture[key] for key in ("channels", "classes", "side") if key in architecture}
    if architecture["name"] == "resnet8":
        kwargs.pop("side", None)
    if architecture["name"] == "mlp":
        kwargs = {"inputs": architecture["inputs"], "hidden": architecture["hidden"], "classes": architecture["classes"]}
    model = zoo[architecture["name"]](**kwargs)
    state = load_file(args.checkpoint)
    model.load_state_dict(state, strict=True)
    model.eval()
    side = architecture.get("side", 28)
    with torch.no_grad():
        logits = model(torch.zeros(2, architecture.get("channels", 1), side, side))
    print(f"{args.checkpoint}: loaded strictly into {architecture['name']} "
          f"({sum(p.numel() for p in model.parameters())} parameters, {len(state)} tensors); "
          f"logits of a zero batch {tuple(logits.shape)}, finite: {bool(torch.isfinite(logits).all())}; "
          f"metadata keys {sorted(metadata)}")


if __name__ == "__main__":
    main()

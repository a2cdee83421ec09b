"""Make the PyTorch SAM / ASAM training fixtures in Tests/Fixtures/sam/.

Starting from one seeded zoo `cnn` (1 channel, 10 classes, 28x28 inputs) and
five seeded batches of 16, this trains three runs of five steps each, one step
per batch, in float64:

  sgd   plain torch.optim.SGD (lr 0.05, momentum 0.9, weight decay 5e-4)
  sam   SAM (Foret et al., 2021) with rho 0.05 around that same SGD
  asam  adaptive SAM (Kwon et al., 2021) with rho 0.5 around that same SGD

SAM follows the widely used PyTorch formulation SAM(params, base_optimizer,
rho, adaptive): the first step moves the weights to w + e with
e = rho * T^2 g / ||T g|| (T = |w| elementwise for ASAM, 1 for SAM), the second
step restores w exactly and lets the base optimizer step with the gradient
taken at w + e. Both forward passes run in train mode (batch statistics); only
the first one updates the BatchNorm running statistics, because the second
runs with BatchNorm momentum 0.

Files written (floats stored as float32, labels as int64):

  initial.safetensors  the initial float32 state_dict, saved with
                       safetensors.torch.save_file and the checkpoint metadata
                       of shared/spec/checkpoint.md.
  batches.safetensors  `inputs` [5, 16, 1, 28, 28] and `labels` [5, 16].
  <run>.safetensors    for sgd, sam and asam: `loss` [5] (unperturbed loss
                       of each step), `perturbed_loss` [5] (loss at w + e; not
                       for sgd), `grad_norm` [5] (||T g|| of each first step;
                       the plain gradient norm for sgd), and `final.<name>`
                       for every state_dict entry except num_batches_tracked.

The script also prints sanity checks that are not stored: SAM with rho 0 must
end exactly where SGD ends, and a float32 repeat of the sam run shows the
relative error a float32 implementation can expect.

The model definitions come from the shared reference file
shared/reference/models.py next to the repository root (override with
--models-py). Everything is seeded, so a rerun reproduces the files:

    python3 Tests/Fixtures/make_sam_fixtures.py

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

SEED = 2024
STEPS, BATCH = 5, 16
CHANNELS, CLASSES, SIDE = 1, 10, 28
SGD = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005}
BN_MOMENTUM = 0.1
RUNS = {
    "sgd": None,
    "sam": {"rho": 0.05, "adaptive": False},
    "asam": {"rho": 0.5, "adaptive": True},
}

ARCHITECTURE = {"name": "cnn", "channels": CHANNELS, "classes": CLASSES, "side": SIDE}

OUT_DIR = Path(__file__).resolve().parent / "sam"


def compact_json(value):
    return json.dumps(value, separators=(",", ":"))




def grad_norm(params, adaptive):
    """||T g||_2 over all parameters with a gradient, T = |w| if adaptive else 1."""
    return torch.norm(torch.stack([
        ((torch.abs(p) if adaptive else 1.0) * p.grad).norm(p=2)
        for p in params if p.grad is not None
    ]), p=2)


class SAM(torch.optim.Optimizer):
    """Sharpness-aware minimisation around any base optimizer.

    first_step:  e = rho * T^2 g / (||T g|| + 1e-12), w <- w + e
    second_step: w <- w (restored exactly), then the base optimizer steps with
                 the gradient computed at w + e.
    """

    def __init__(self, params, base_optimizer, rho=0.05, adaptive=False, **kwargs):
        if rho < 0.0:
            raise ValueError(f"invalid rho {rho}, should be non-negative")
        super().__init__(params, dict(rho=rho, adaptive=adaptive, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        """Moves to w + e; returns ||T g||."""
        norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                e_w = (torch.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                p.add_(e_w)
        if zero_grad:
            self.zero_grad()
        return norm

    def _grad_norm(self):
        # One norm over all groups, each parameter weighted by its group's T.
        return torch.norm(torch.stack([
            grad_norm(group["params"], group["adaptive"]) for group in self.param_groups
        ]), p=2)

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()


def set_bn_momentum(model, momentum):
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = momentum


def running_stats(model):
    return {name: b.detach().clone() for name, b in model.named_buffers()
            if not name.endswith("num_batches_tracked")}


def train(model, inputs, labels, sam, dtype=torch.float64):
    """STEPS steps from a copy of `model` in `dtype`, plain SGD if `sam` is None.

    Returns the tensors of a run file, in `dtype` (not yet float32).
    """
    model = copy.deepcopy(model).to(dtype).train()
    if sam is None:
        optimizer = torch.optim.SGD(model.parameters(), **SGD)
    else:
        optimizer = SAM(model.parameters(), torch.optim.SGD, **sam, **SGD)

    losses, perturbed_losses, norms = [], [], []
    for x, y in zip(inputs, labels):
        x = x.to(dtype)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses.append(loss.detach())
        if sam is None:
            norms.append(grad_norm(model.parameters(), adaptive=False).detach())
            optimizer.step()
            optimizer.zero_grad()
            continue

        norms.append(optimizer.first_step(zero_grad=True))
        # Momentum 0 keeps the running statistics of the first pass; PyTorch
        # still counts the batch in num_batches_tracked, which is not stored.
        before = running_stats(model)
        set_bn_momentum(model, 0.0)
        perturbed_loss = F.cross_entropy(model(x), y)
        perturbed_loss.backward()
        set_bn_momentum(model, BN_MOMENTUM)
        after = running_stats(model)
        assert all(torch.equal(before[k], after[k]) for k in before), "perturbed pass moved BN stats"
        perturbed_losses.append(perturbed_loss.detach())
        optimizer.second_step(zero_grad=True)

    out = {"loss": torch.stack(losses)}
    if sam is not None:
        out["perturbed_loss"] = torch.stack(perturbed_losses)
    out["grad_norm"] = torch.stack(norms)
    out.update({f"final.{name}": v.detach().clone() for name, v in model.state_dict().items()
                if not name.endswith("num_batches_tracked")})
    return out


def max_abs_diff(a, b, keys):
    return max((a[k] - b[k]).abs().max().item() for k in keys)


def sanity_checks(model, inputs, labels, runs):
    finals = [k for k in runs["sgd"] if k.startswith("final.")]
    stats = [k for k in finals if k.endswith(("running_mean", "running_var"))]
    params = [k for k in finals if k not in stats]

    rho0 = train(model, inputs, labels, {"rho": 0.0, "adaptive": False})
    exact = all(torch.equal(rho0[k], runs["sgd"][k]) for k in finals + ["loss", "grad_norm"])
    print(f"check: SAM with rho 0 equals SGD exactly (float64): {exact} "
          f"(max |diff| {max_abs_diff(rho0, runs['sgd'], finals):.3e})")
    for name in ("sam", "asam"):
        print(f"check: {name} vs sgd finals: parameters max |diff| "
              f"{max_abs_diff(runs[name], runs['sgd'], params):.6e}, running stats max |diff| "
              f"{max_abs_diff(runs[name], runs['sgd'], stats):.6e}")

    single = train(model, inputs, labels, RUNS["sam"], dtype=torch.float32)
    print("check: sam float32 vs float64, max|a-b|/max|b| per tensor:")
    relative = {}
    for k in ["loss", "perturbed_loss", "grad_norm"] + finals:
        reference = runs["sam"][k]
        relative[k] = ((single[k].double() - reference).abs().max() / reference.abs().max()).item()
        print(f"  {k:<24} {relative[k]:.3e}")
    print(f"  worst final tensor       {max(relative[k] for k in finals):.3e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-py", type=Path, default=DEFAULT_MODELS_PY,
                        help="the shared reference model zoo (default: %(default)s)")
    args = parser.parse_args()

    zoo = load_zoo(args.models_py.resolve())
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(SEED)
    model = zoo["cnn"](channels=CHANNELS, classes=CLASSES, side=SIDE).float()
    inputs = torch.randn(STEPS, BATCH, CHANNELS, SIDE, SIDE, dtype=torch.float32)
    labels = torch.randint(0, CLASSES, (STEPS, BATCH), dtype=torch.int64)

    paths = [OUT_DIR / "initial.safetensors", OUT_DIR / "batches.safetensors"]
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(paths[0]), {
        "architecture": compact_json(ARCHITECTURE),
        "format": "landscape-checkpoint/1",
        "dataset": "synthetic",
        "preprocessing": "none",
    })
    save_file({"inputs": inputs.contiguous(), "labels": labels.contiguous()}, str(paths[1]))

    runs = {}
    for name, sam in RUNS.items():
        runs[name] = train(model, inputs, labels, sam)
        metadata = {}
        if sam is not None:
            metadata["rho"] = str(sam["rho"])
            metadata["adaptive"] = "true" if sam["adaptive"] else "false"
        metadata.update({"sgd": compact_json(SGD), "steps": str(STEPS), "batch": str(BATCH),
                         "torch": torch.__version__})
        path = OUT_DIR / f"{name}.safetensors"
        save_file({k: v.float().contiguous() for k, v in runs[name].items()}, str(path), metadata)
        paths.append(path)
        losses = " ".join(f"{v:.10f}" for v in runs[name]["loss"].tolist())
        print(f"{name}: loss {losses}")
        if sam is not None:
            perturbed = " ".join(f"{v:.10f}" for v in runs[name]["perturbed_loss"].tolist())
            print(f"{name}: perturbed_loss {perturbed}")
        norms = " ".join(f"{v:.10f}" for v in runs[name]["grad_norm"].tolist())
        print(f"{name}: grad_norm {norms}")

    for path in paths:
        print(f"{path.name}: {path.stat().st_size} B")
    print(f"total {sum(p.stat().st_size for p in paths)} B")

    sanity_checks(model, inputs, labels, runs)


if __name__ == "__main__":
    main()

"""Seconds per epoch of K-FAC against SGD and Adam, with and without the RMT damping learner.

``python benchmarks/kfac_speed.py [--epochs 20] [--model mlp] [--data digits] [--device auto]``
trains the same network with each optimiser of the ``optimizer`` config group (the configs of
``config/optimizer``, as the optimisers stage composes them) and prints the wall time per epoch
(evaluation included) and its ratio to SGD's. K-FAC runs with the authors' update periods (factors
every 10 steps, inverses every 100) and with both every step (the most expensive setting); the
learner with its configured statistics subset and period. The factor pass is curvlinops'
``KFACLinearOperator.compute_kronecker_factors`` on the step's batch.
"""

from __future__ import annotations

import argparse

import torch
from _timing import pick_device, timed
from hydra import compose, initialize_config_dir

from rmtloss import schema
from rmtloss.nets import data as data_mod
from rmtloss.nets import training
from rmtloss.stage import CONFIG_DIR

ARMS = {
    "sgd": ["optimizer=sgd", "optimizer.lr=0.03"],
    "adam": ["optimizer=adam", "optimizer.lr=0.003"],
    "adam + learner (gap)": ["optimizer=adam", "optimizer.lr=0.003", "optimizer.learner.enabled=true"],
    "kfac (10 / 100)": ["optimizer=kfac"],
    "kfac (1 / 1)": ["optimizer=kfac", "optimizer.cov_every=1", "optimizer.inv_every=1"],
    "kfac + learner (shrinkage)": ["optimizer=kfac", "optimizer.learner.enabled=true"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = pick_device(args.device)
    schema.register()
    rows = []
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for i, (name, overrides) in enumerate([("warm-up", ARMS["sgd"]), *ARMS.items()]):
            cfg = compose("train", [f"model={args.model}", f"data={args.data}", f"train.epochs={args.epochs}",
                                    "train.checkpoint_every=0", *overrides])
            ds = data_mod.load(cfg.data).to(torch.float32, device)
            secs, (_, _, metrics) = timed(lambda cfg=cfg, ds=ds: training.fit(cfg, ds, device))
            if i:  # the first run pays for imports and allocator warm-up
                rows.append((name, secs / args.epochs, metrics[-1]["test_metric"]))
    sgd = rows[0][1]
    threads = torch.get_num_threads()
    print(f"{args.model} on {args.data}, {args.epochs} epochs on {device} ({threads} threads)")
    print(f"{'optimiser':<28} {'s / epoch':>10} {'x SGD':>7} {'test acc':>9}")
    for name, per_epoch, acc in rows:
        print(f"{name:<28} {per_epoch:>10.3f} {per_epoch / sgd:>7.2f} {acc:>9.4f}")


if __name__ == "__main__":
    main()

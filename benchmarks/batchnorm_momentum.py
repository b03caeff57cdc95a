"""Batch-norm momentum under the recommended recipe: Keras' 0.01 against torch's 0.1.

The networks with batch norm (IRNet, FCMnR, FCUNet) train with the recommended
recipe (AdamW 4e-3, batch 256, cosine) on the first ``--rows`` training rows of
the BRNet protocol of JARVIS formation energy for ``--epochs`` epochs, once with
each momentum; the table gives the validation MAE (the 9% part) after every
epoch. With few large batches and a high rate, the slow Keras momentum lets the
running statistics that evaluation uses lag behind the weights.

Run: ``python benchmarks/batchnorm_momentum.py --threads 1``
(writes ``benchmarks/results/batchnorm_momentum.{json,csv}``).
"""

from __future__ import annotations

import argparse

import numpy as np
from _bench import add_common_arguments, brnet_protocol, setup
from _common import print_and_save

import skmatnet

NETWORKS = ("IRNetRegressor", "FCMnRRegressor", "FCUNetRegressor")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args(argv)
    info = setup(args)
    data = brnet_protocol()
    networks = NETWORKS
    if args.smoke:
        args.rows, args.epochs, networks = 300, 2, NETWORKS[:1]
        data["X_val"], data["y_val"] = data["X_val"][:100], data["y_val"][:100]
    X, y = data["X_train"][:args.rows], data["y_train"][:args.rows]
    rows = []
    for name in networks:
        for momentum in (0.01, 0.1):
            net = getattr(skmatnet, name)(max_epochs=args.epochs, bn_momentum=momentum,
                                          random_state=0, device=args.device)
            net.fit(X, y, X_val=data["X_val"], y_val=data["y_val"])
            valid = np.asarray(net.history_[:, "valid_loss"])
            train = np.asarray(net.history_[:, "train_loss"])
            row = {"network": name, "bn_momentum": momentum,
                   **{f"val MAE, epoch {i + 1}": round(float(v), 3) for i, v in enumerate(valid)},
                   "train loss, last epoch": round(float(train[-1]), 3)}
            print(row, flush=True)
            rows.append(row)
    print_and_save("batchnorm_momentum", rows, info, args)


if __name__ == "__main__":
    main()

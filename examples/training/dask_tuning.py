"""
Tuning on a Dask cluster
========================

A scikit-learn grid search over BRNet settings, its fits spread over the workers of a Dask
cluster through joblib's ``dask`` backend; :func:`skmatnet.connect_dask` gives the client.
"""

# %%
# Settings: the gallery searches a 2 x 2 grid with 2-fold CV, small networks trained for 5
# epochs on 2,000 formulas, on two local worker processes. Full:
# ``python examples/training/dask_tuning.py --full`` searches it with 5-fold CV, 50 epochs on
# all the formulas, on ``local:8`` (or a running cluster: pass its address,
# ``tcp://host:8786``, as ``SCHEDULER``).
import sys

FULL = "--full" in sys.argv[1:]
SCHEDULER = "local:8" if FULL else "local:2"
N_ROWS = None if FULL else 2000
MAX_EPOCHS = 50 if FULL else 5
CV = 5 if FULL else 2

# %%
# The search is an ordinary ``GridSearchCV`` over a pipeline: nothing in it knows about Dask.
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset

data = load_dataset("jarvis_formation_energy")
if N_ROWS is not None:
    data = data.sample(N_ROWS, random_state=0)
net = BRNetRegressor(max_epochs=MAX_EPOCHS, batch_size=128, module__stage_layers=(2, 2, 1),
                     random_state=0)
model = Pipeline([("ef", ElementFractionTransformer()), ("net", net)])
grid = {"net__lr": [1e-3, 3e-3],
        "net__module__stage_widths": [(64, 32, 16), (128, 64, 32)]}
search = GridSearchCV(model, grid, cv=CV, scoring="neg_mean_absolute_error", n_jobs=-1)

# %%
# ``connect_dask("local:2", threads=1)`` starts a ``LocalCluster`` of two worker processes,
# each running torch, OpenMP and BLAS on one thread (workers x threads should not exceed the
# cores), and yields a client; leaving the ``with`` block closes the client and shuts the
# cluster down. Under ``joblib.parallel_backend("dask")`` each fit of the grid (settings x
# folds) is one task on a worker; the final refit on all rows runs here.
#
# A worker process imports this script again when it starts, so everything that needs the
# cluster, or the fitted search, runs under ``if __name__ == "__main__"`` only.
import joblib

from skmatnet import connect_dask

if __name__ == "__main__":
    with connect_dask(SCHEDULER, threads=1) as client, joblib.parallel_backend("dask"):
        print(f"{len(client.scheduler_info()['workers'])} workers")
        search.fit(data["formula"], data["target"])
    print(f"after the with block: client {client.status}, cluster {client.cluster.status.name}")

# %%
# The cross-validated error of each setting, best first. ``mean_fit_time`` is the time of one
# fit on a worker; a worker's first fit also pays torch's one-time start-up in that process.
import pandas as pd

if __name__ == "__main__":
    results = pd.DataFrame(search.cv_results_)
    results["mean_test_MAE"] = -results["mean_test_score"]
    columns = ["mean_test_MAE", "mean_fit_time", "params"]
    print(results.sort_values("mean_test_MAE")[columns].to_string(
        index=False, float_format="{:.3f}".format))
    print("best:", search.best_params_)

# %%
# The same errors as a map of the grid.
import matplotlib.pyplot as plt

if __name__ == "__main__":
    widths = [str(w) for w in grid["net__module__stage_widths"]]
    table = results.pivot_table(index="param_net__lr", values="mean_test_MAE",
                                columns=results["param_net__module__stage_widths"].map(str))
    table = table[widths]  # the order of the grid, not of the strings
    fig, ax = plt.subplots(figsize=(5, 3.5))
    image = ax.imshow(table.to_numpy(), cmap="viridis_r")
    for (row, column), mae in pd.DataFrame(table.to_numpy()).stack().items():
        dark = image.norm(mae) > 0.5  # the dark end of the reversed map: white text
        ax.text(column, row, f"{mae:.3f}", ha="center", va="center",
                color="white" if dark else "black")
    ax.set_xticks(range(len(widths)), widths)
    ax.set_yticks(range(len(table.index)), [f"{lr:g}" for lr in table.index])
    ax.set_xlabel("stage widths")
    ax.set_ylabel("learning rate")
    fig.colorbar(image, ax=ax, label="mean CV MAE (eV/atom)")
    fig.tight_layout()

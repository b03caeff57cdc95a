"""The recommended recipe's rules: training settings chosen from the data of a fit.

A parameter left at ``"auto"`` (``lr``, ``batch_size``, ``width``,
``validation_fraction``, ``average_weights``; ``max_epochs=None`` without ``max_time``) is set at
each fit by :func:`recommended_settings` and :func:`validation_fraction_for`
from the number of training rows and the task, and the fitted estimator records
what it used in ``effective_params_``; ``get_params()`` keeps showing ``"auto"``, so a
``clone`` decides again on its own data. Explicit values always win.

Every rule was measured with ``benchmarks/default_recipe.py``; the figures are in
``docs/defaults.md``. Torch-free, so the command line and the benchmark's
configuration can show the rules without importing torch.
"""

from __future__ import annotations

import math

__all__ = ["AUTO", "AUTO_PARAMETERS", "recommended_settings", "schedule_epochs",
           "validation_fraction_for"]

#: The value of a parameter that the rules below set at each fit.
AUTO = "auto"
#: The parameters that may be ``"auto"``.
AUTO_PARAMETERS = ("lr", "batch_size", "width", "validation_fraction", "average_weights")

#: Batch size of large sets (the recipe search's best on 21,659 JARVIS rows) ...
LARGE_BATCH = 256
#: ... and the smallest one, below which a CPU step costs as much as a larger one.
SMALL_BATCH = 16
#: A batch size of about rows / ROWS_PER_BATCH between the two: 64 steps per epoch and more.
ROWS_PER_BATCH = 64
#: Peak rate at ``LARGE_BATCH``; smaller batches scale it by the square root of their size.
LARGE_BATCH_LR = 4e-3
#: From this many rows on the batch stops growing, and the peak rate falls with the square
#: root of the rows instead (an epoch has more steps: at 4e-3 BRNet diverged on 270,000
#: OQMD band gaps, at 2e-3 its loss spiked 75-fold, at 1e-3 it trained smoothly).
LARGE_SET_ROWS = LARGE_BATCH * ROWS_PER_BATCH
#: The schedule's length: 100 epochs and at least 2,000 optimizer steps, so a few hundred
#: rows train as many steps as a few thousand do. A classifier's is shorter: its
#: validation log-loss is lowest early, and a schedule that anneals by then beat one
#: that keeps a mid-schedule epoch (JARVIS metals, three seeds: BRNet ROC-AUC 0.9538 in 13
#: epochs against 0.9514 in 26, log-loss 0.250 against 0.259; IRNet lost, 0.9487 against 0.9511).
MIN_EPOCHS = {"regression": 100, "classification": 12}
MIN_STEPS = {"regression": 2000, "classification": 1000}
# A regressor whose schedule is longer than ``MIN_EPOCHS`` (fewer than about 320 rows: 2,000
# steps of batch 16 are 286 epochs of 100 rows) peaks at a rate lower in proportion, so each
# row gets the rate times passes of a 100-epoch schedule. On 100 rows the full rate overfit
# the networks without batch normalisation (BRNet, JARVIS band gap, sixteen draws: 0.727 eV
# at 1e-3, 0.698 at 3.5e-4, ExtraTrees 0.707; formation energy, eight draws: 0.491 and 0.462
# eV/atom), while on 300 rows a lower rate lost (band gap 0.562 at 1e-3, 0.580 at 2.5e-4).
# The networks with batch normalisation lost at the lower rate (IRNet 0.623 → 0.706 eV,
# eight draws): their registry entries turn it off. Fine-tuning keeps its own measured share
# (``FINE_TUNING_LR_FACTOR``) of the batch's rate.
#: Share of the schedule after which the epochs' weights are averaged (``None``: the kept
#: epoch's weights); the average is kept where its validation loss is no worse than the best
#: epoch's. A classifier's validation log-loss bottoms out in the schedule's second half, and
#: the average of those epochs beat its best epoch (JARVIS metals, BRNet, five seeds: ROC-AUC
#: 0.9555 against 0.9526, log-loss 0.246 against 0.256; the average kept on four).
AVERAGE_WEIGHTS = {"regression": None, "classification": 0.5}
#: Hidden-layer width multiplier ...
WIDTH = 0.5
#: ... and a classifier's from ``LARGE_SET_ROWS`` training rows on: the published width, at
#: half the rate (the width rule below). JARVIS metals (19,528 rows), BRNet, ten seeds: ROC-AUC
#: 0.9562 against 0.9554 at width 0.5 (better on eight), log-loss 0.2454 against 0.2464; OQMD
#: metals (249,031 rows), one seed: 0.9894 against 0.9891, log-loss 0.0605 against 0.0612;
#: three times the compute. On 1,000 and 3,000 rows the wider network did no better.
LARGE_SET_CLASSIFIER_WIDTH = 1.0
#: A fit that starts from pretrained weights (``init_from``) peaks at this share of the rate
#: above: on learning curves from 30 to 3,000 rows (MP -> JARVIS formation energy, OQMD ->
#: JARVIS band gap; ``benchmarks/fine_tuning_defaults.py``) 0.3 beat 1 and 0.1 at most sizes.
FINE_TUNING_LR_FACTOR = 0.3
#: The share of a fit's rows held out to pick the kept epoch ...
VALIDATION_FRACTION = 0.1
#: ... from this many rows on (a regressor; a classifier always holds some out): below it,
#: tens of validation rows choose the epoch by chance and the training set is 10% smaller.
MIN_VALIDATED_ROWS = 1000
#: A classifier holds out at least this many rows, up to ``MAX_VALIDATION_FRACTION`` of
#: them: its kept epoch, weight average and probability temperature are chosen on them,
#: and 30 rows choose badly. JARVIS metal task, log-loss by validation share: 300 rows
#: (eight draws) 0.475 at 0.1, 0.420 at 0.2, 0.404 at 0.3, 0.392 at 0.4, 0.397 at 0.5, the
#: ROC-AUC 0.874 at 0.1 and 0.884-0.885 from 0.3; 500 rows 0.423, 0.393 and 0.380 at 0.1,
#: 0.2 and 0.3; 1,000 rows 0.348 at 0.1 and 0.356 at 0.12 (eight draws), so from
#: ``MIN_VALIDATED_ROWS`` on a classifier holds out ``VALIDATION_FRACTION``.
CLASSIFIER_VALIDATION_ROWS = 120
MAX_VALIDATION_FRACTION = 0.4


def validation_fraction_for(n_rows: int, task: str = "regression") -> float | None:
    """The validation share of a fit on ``n_rows`` rows (before the split).

    ``VALIDATION_FRACTION`` from ``MIN_VALIDATED_ROWS`` rows on; below, a
    regressor holds out none and a classifier ``CLASSIFIER_VALIDATION_ROWS``
    rows, at most ``MAX_VALIDATION_FRACTION`` of them.

    Parameters
    ----------
    n_rows : int
        Rows given to ``fit``.
    task : {"regression", "classification"}, default="regression"
        What the estimator predicts.

    Returns
    -------
    float or None
        ``None``: no validation split; the fit keeps its last epoch.
    """
    if n_rows >= MIN_VALIDATED_ROWS:
        return VALIDATION_FRACTION
    if task == "regression":
        return None
    wanted = CLASSIFIER_VALIDATION_ROWS / max(n_rows, 1)
    return round(min(MAX_VALIDATION_FRACTION, max(VALIDATION_FRACTION, wanted)), 3)


def _power_of_two(value: float) -> int:
    return 2 ** max(0, round(math.log2(max(value, 1.0))))


def schedule_epochs(n_rows: int, batch_size: int, task: str = "regression") -> int:
    """Epochs of a schedule of ``MIN_EPOCHS[task]`` epochs and ``MIN_STEPS[task]`` steps at least.

    Parameters
    ----------
    n_rows : int
        Training rows per epoch.
    batch_size : int
        Rows per optimizer step.
    task : {"regression", "classification"}, default="regression"
        What the estimator predicts.

    Returns
    -------
    int
    """
    steps_per_epoch = max(1, math.ceil(n_rows / batch_size))
    return max(MIN_EPOCHS[task], math.ceil(MIN_STEPS[task] / steps_per_epoch))


def recommended_settings(n_rows: int | None, task: str = "regression", *,
                         width: float | None = None, rate_falls_on_large_sets: bool = True,
                         rate_falls_on_small_sets: bool = True,
                         fine_tuning: bool = False) -> dict:
    """The recommended recipe's settings for a fit on ``n_rows`` training rows.

    The batch size is a 64th of the rows, a power of two from 16 to 256; the
    peak rate 4e-3 at batch 256, scaled by the square root of a smaller batch,
    above ``LARGE_SET_ROWS`` rows by the square root of ``LARGE_SET_ROWS /
    n_rows``, for a network wider than 0.5 by ``0.5 / width``, and for a
    regressor whose schedule runs more than ``MIN_EPOCHS`` epochs by
    ``MIN_EPOCHS / epochs`` (not when fine-tuning); the schedule
    ``MIN_EPOCHS[task]`` epochs and ``MIN_STEPS[task]`` steps at least; the
    width 0.5 (a classifier's 1.0 from ``LARGE_SET_ROWS`` rows);
    the weights averaged from ``AVERAGE_WEIGHTS[task]`` of the schedule on.
    A fit from pretrained weights peaks at ``FINE_TUNING_LR_FACTOR`` times that rate.

    Parameters
    ----------
    n_rows : int or None
        Rows the network trains on (after the validation split); ``None``:
        unknown, the settings of a large set (a network built before any fit).
    task : {"regression", "classification"}
        What the estimator predicts.
    width : float or None, default=None
        The network's width multiplier (``None``: ``WIDTH``, or for a classifier
        on ``LARGE_SET_ROWS`` rows or more ``LARGE_SET_CLASSIFIER_WIDTH``): a
        wider one trains at a proportionally
        lower peak rate (BRNet at width 1.0 diverged at 3.7e-3 in its second
        epoch on the JARVIS metal task; the recipe search trained it at 2e-3).
    rate_falls_on_large_sets : bool, default=True
        Whether the peak rate falls above ``LARGE_SET_ROWS`` rows; a network's
        registry entry turns it off where lower rates were measured to hurt.
    rate_falls_on_small_sets : bool, default=True
        Whether a regressor's peak rate falls on sets whose schedule runs more
        than ``MIN_EPOCHS`` epochs; off in the registry entries of the networks
        with batch normalisation, where it was measured to hurt.
    fine_tuning : bool, default=False
        Whether the fit starts from pretrained weights (``init_from``).

    Returns
    -------
    dict
        ``lr``, ``batch_size``, ``width``, ``average_weights`` and
        ``max_epochs`` (the schedule's length when neither ``max_epochs`` nor
        ``max_time`` is given).

    Examples
    --------
    >>> from skmatnet._adaptive import recommended_settings
    >>> recommended_settings(20_000)["batch_size"], recommended_settings(300)["batch_size"]
    (256, 16)
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    n_rows = LARGE_SET_ROWS if n_rows is None else max(int(n_rows), 1)
    batch_size = min(LARGE_BATCH, max(SMALL_BATCH, _power_of_two(n_rows / ROWS_PER_BATCH)))
    if width is None:
        wide = task == "classification" and n_rows >= LARGE_SET_ROWS
        width = LARGE_SET_CLASSIFIER_WIDTH if wide else WIDTH
    lr = LARGE_BATCH_LR * math.sqrt(batch_size / LARGE_BATCH)
    if rate_falls_on_large_sets:
        lr *= min(1.0, math.sqrt(LARGE_SET_ROWS / n_rows))
    lr *= min(1.0, WIDTH / width)
    epochs = schedule_epochs(n_rows, batch_size, task)
    if fine_tuning:  # its share was measured from 30 rows up on the rate of the batch
        lr *= FINE_TUNING_LR_FACTOR
    elif rate_falls_on_small_sets and task == "regression":
        lr *= min(1.0, MIN_EPOCHS[task] / epochs)
    return {
        "lr": float(f"{lr:.2g}"),
        "batch_size": batch_size,
        "width": width,
        "average_weights": AVERAGE_WEIGHTS[task],
        "max_epochs": epochs,
    }

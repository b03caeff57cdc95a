"""skmatnet's warnings: one class per situation under ``SkmatnetWarning``, filterable as one
family, and printed as one line each by the command line."""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pytest
from skorch.callbacks import Callback
from small_estimators import small

from skmatnet import BRNetRegressor, ElementFractionTransformer, exceptions, load_dataset
from skmatnet.cli._common import guarded
from skmatnet.exceptions import FitInterruptedWarning, SkmatnetWarning

WARNINGS = (exceptions.DeviceFallbackWarning, exceptions.VersionMismatchWarning,
            exceptions.FitInterruptedWarning, exceptions.DivergenceRestoredWarning,
            exceptions.CallbacksNotSavedWarning, exceptions.TargetScaleWarning)


@pytest.fixture(scope="module")
def rows():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    X = ElementFractionTransformer().fit_transform(formulas[:300])
    return X.astype(np.float32), y[:300]


class CtrlCAfterEpoch(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_every_warning_is_a_documented_skmatnet_warning():
    for cls in WARNINGS:
        assert issubclass(cls, SkmatnetWarning) and issubclass(cls, UserWarning), cls
        assert cls.__doc__ and cls.__name__ in exceptions.__all__
    assert "SkmatnetWarning" in exceptions.__all__


def test_one_filter_on_the_base_class_reaches_a_real_warning(rows):
    X, y = rows
    # As a user escalating all of skmatnet's warnings: the interrupted fit's warning is raised.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkmatnetWarning)
        with pytest.raises(FitInterruptedWarning, match=r"interrupted .* after 2 complete"):
            small(BRNetRegressor, max_epochs=5, callbacks=[CtrlCAfterEpoch(2)]).fit(X, y)
    # ... and silencing them leaves the interruption itself.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", SkmatnetWarning)
        with pytest.raises(KeyboardInterrupt):
            small(BRNetRegressor, max_epochs=5, callbacks=[CtrlCAfterEpoch(2)]).fit(X, y)
    assert not [w for w in caught if issubclass(w.category, SkmatnetWarning)]


def test_the_command_line_prints_every_warning_as_one_line(capsys):
    def command():
        warnings.warn("saved with torch 1.13\nloaded with torch 2.13",
                      exceptions.VersionMismatchWarning, stacklevel=1)
        warnings.warn("a library's own warning", RuntimeWarning, stacklevel=1)
        return 0

    assert guarded(command, argparse.Namespace(traceback=False)) == 0
    assert capsys.readouterr().err.splitlines() == [
        "skmatnet: warning: saved with torch 1.13 loaded with torch 2.13",
        "skmatnet: warning: a library's own warning",
    ]
    # Python's own display is back once the command is done.
    assert warnings.showwarning.__module__ == "warnings"

"""Ask-and-tell over hyperopt's TPE, for the Dask runner's AutoML trials.

:class:`TrialProposals` proposes trials of an AutoML search
(``skmatnet.benchmark.automl._TrialSearch``) while earlier ones are still running as
Dask tasks, and hands each outcome back to the search's records.
"""

from __future__ import annotations

from typing import Any

from .errors import BenchmarkError


class TrialProposals:
    """Ask-and-tell over hyperopt: TPE proposes trials while earlier ones are still running.

    hyperopt's own pieces, as its asynchronous ``FMinIter`` uses them: the space as a
    :class:`hyperopt.Domain`, new trial documents from ``algo(new_ids, domain, trials,
    seed)`` inserted into the search's ``Trials``, and each document marked
    ``JOB_STATE_DONE`` with its result when the trial ends. Trials still running are in
    ``Trials`` too, so TPE's first ``n_startup_jobs`` proposals count them, and later
    proposals model only the finished ones. One trial in flight at a time draws the
    seeds and sees the results exactly as the serial loop's ``fmin`` calls do.

    Parameters
    ----------
    search : skmatnet.benchmark.automl._TrialSearch
        The search whose space, trials and records these proposals share.
    """

    def __init__(self, search: Any):  # automl._TrialSearch, which imports this module
        import hyperopt

        self.search = search
        estimator = search.estimator
        self.trials = estimator.trials
        # fn is never called here: the trials are evaluated by whoever asked for them
        self.domain = hyperopt.Domain(_never_called, estimator.space)
        self.n_asked = 0
        self._docs: dict[int, dict] = {}

    def ask(self) -> tuple[int, dict]:
        """Propose the next trial: its number (1, 2, ...) and the configuration to evaluate."""
        from hyperopt import base, pyll
        from hyperopt.utils import coarse_utcnow

        estimator, trials = self.search.estimator, self.trials
        new_ids = trials.new_trial_ids(1)
        trials.refresh()
        docs = estimator.algo(new_ids, self.domain, trials,
                              estimator.rstate.integers(2**31 - 1))
        if not docs:  # pragma: no cover - TPE always proposes; a finite algo may not
            raise BenchmarkError("hyperopt proposed no further trial")
        trials.insert_trial_docs(docs)
        trials.refresh()
        doc = next(d for d in trials._dynamic_trials if d["tid"] == new_ids[0])
        doc["state"] = base.JOB_STATE_RUNNING
        doc["book_time"] = doc["refresh_time"] = coarse_utcnow()
        memo = self.domain.memo_from_config(base.spec_from_misc(doc["misc"]))
        argd = pyll.rec_eval(self.domain.expr, memo=memo)
        self.n_asked += 1
        self._docs[self.n_asked] = doc
        return self.n_asked, argd

    def tell(self, number: int, argd: dict, rtype: str, rval: Any, seconds: float) -> None:
        """Record trial ``number``'s outcome and give hyperopt its result."""
        from hyperopt import base
        from hyperopt.utils import coarse_utcnow

        result = self.search.record(number, argd, rtype, rval, seconds)
        doc = self._docs.pop(number)
        doc["state"] = base.JOB_STATE_DONE
        doc["result"] = result
        doc["refresh_time"] = coarse_utcnow()
        self.trials.refresh()


def _never_called(argd):  # pragma: no cover - the Domain of TrialProposals needs a function
    raise RuntimeError("TrialProposals evaluates its trials outside hyperopt")

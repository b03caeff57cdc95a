"""What a benchmark writes besides its files: the table, the charts, the environment record.

The names live in one module per concern (:mod:`.tables`, :mod:`.charts`,
:mod:`.environment`, and :func:`~skmatnet.benchmark.output.to_json` with the files);
``skmatnet.benchmark.report`` is where they are imported from, as before that split.
"""

from __future__ import annotations

from .charts import bubble_chart, parity_plot, roc_plot
from .environment import environment_record
from .output import to_json as to_json
from .tables import TABLE_COLUMNS, baseline_verdict, format_markdown, format_text_table

__all__ = [
    "TABLE_COLUMNS",
    "baseline_verdict",
    "bubble_chart",
    "environment_record",
    "format_markdown",
    "format_text_table",
    "parity_plot",
    "roc_plot",
]

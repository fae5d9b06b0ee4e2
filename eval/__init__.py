"""Scoring predictions against gold, reports and plots.

Modules, one job each:

* ``alignment``: the majority-overlap rule and segmentation boundary matching;
* ``pairing``: gold and predicted documents paired by doc_id or text, bad inputs refused;
* ``metrics``: every score, and ``evaluate`` that returns them as one JSON-ready dict;
* ``bootstrap``: 95% confidence intervals by resampling documents;
* ``plots``, ``report``: PNG plots, the terminal table, metrics.json and the HTML report;
* ``compare``: several systems on the same gold;
* ``run``: ``run_evaluation``, what the commands do (read, score, print, write);
* ``cli``: the ``eval`` and ``compare`` commands, thin over ``run``.

Nothing is imported here, so ``import sourcemark.eval`` stays cheap.
"""

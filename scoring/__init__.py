"""Batch scoring jobs: files in, predictions, summaries and an errors file out, on one machine or on Ray.

Modules, one job each:

* ``job``: :class:`ScoreJob`, everything a scoring run is asked to do, and the one place its defaults live;
* ``runtime``: choosing the encoder runtime (torch, ONNX Runtime fp32, checked int8);
* ``int8_check``: the accuracy gate an int8 graph must pass on the bundled dev sets;
* ``batch``: the local engine (streaming, resumable, failures recorded);
* ``ray_engine``: the same job on Ray Data;
* ``summary``: the per-article summary row;
* ``cli``: the ``score`` command.
"""

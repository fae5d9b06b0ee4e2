"""sourcemark: passage roles and attributed sources in conflict reporting.

The core package holds what every stage shares: the label ids of the
annotation guide, the document model and its JSONL format, input readers and
segmentation. The stages live in ``sourcemark.model``, ``sourcemark.training``,
``sourcemark.annotation`` and ``sourcemark.eval``.
"""

__version__ = "0.1.0"

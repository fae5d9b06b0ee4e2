"""Every hyper-parameter of a training run, in one dataclass (saved with the model).

The window settings (``max_length``, ``context``, ``isolate_passages``, ``context_segment``) belong
to the model stage, which reads them back when it predicts: their defaults are
its own (:mod:`sourcemark.model.encoding`). Measured effects of the other
defaults are in bench/results and the model card, not here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from sourcemark.model.backbone import DEFAULT_BACKBONE
from sourcemark.model.encoding import CONTEXT, CONTEXT_SEGMENT, ISOLATE_PASSAGES, MAX_LENGTH


@dataclass
class TrainConfig:
    """Hyper-parameters; the defaults train the default model in minutes on two CPU cores."""

    base_model: str = DEFAULT_BACKBONE
    #: Enough epochs for the tagger, which learns more slowly than the role head, to reach its best
    #: within the training-time budget; the best epoch on dev is kept.
    epochs: int = 4
    #: 16 windows a step rather than 8: two cores do an epoch in about 14% less time (one
    #: optimiser step and gradient clip per 16 windows instead of two, and larger matrix products), with
    #: the encoder's learning rate doubled to keep the size of an epoch's updates.
    batch_size: int = 16
    learning_rate: float = 1.6e-4
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = MAX_LENGTH
    context: int = CONTEXT
    isolate_passages: bool = ISOLATE_PASSAGES
    context_segment: bool = CONTEXT_SEGMENT
    #: Batches of windows of similar length: less padding, so faster epochs, with no measurable
    #: loss against random batches.
    group_by_length: bool = True
    #: The word-embedding matrix (half of MiniLM's parameters) stays as pre-trained: clipping and
    #: updating it cost about as much as a batch's forward and backward pass, for no measurable gain.
    freeze_word_embeddings: bool = True
    #: How many of the encoder's lowest layers (with all its embeddings) stay as pre-trained. Backward
    #: passes stop above them, so each step costs less; training time is what this buys.
    freeze_layers: int = 0
    #: The source tagger's loss counts more than the role loss: mentions are rare tokens and the
    #: tagger lags the role head.
    tag_loss_weight: float = 3.0
    #: Documents corrected in Label Studio count more: they fix the model's own mistakes.
    corrected_weight: float = 3.0
    #: Loss weight of the bundled real articles (FA-KES) beside the authored corpus: real text is what
    #: the model is judged on, and it is a sixth of the training passages.
    real_weight: float = 1.0
    #: Share of the corpus's windows without a source mention that each epoch trains on (a
    #: different part each epoch, so the epochs together cover them all). Windows with a mention, real
    #: articles and corrected documents are used whole every epoch: the tagger learns slowest, while the
    #: role head learns the corpus's plain passages (over half its windows) early. 0.4 took the default's
    #: training (batches of 8 then) from 23.6 to 19.6-20.8 minutes; 1.0 uses every window every epoch.
    #: "Corpus" is every training document that is neither a bundled real article nor a correction (the
    #: authored corpus, or --data).
    plain_corpus_share: float = 0.4
    seed: int = 13
    data_fraction: float = 1.0
    max_steps: int = 0
    threads: int = 0

    def fingerprint(self) -> str:
        """A short hash: a checkpoint resumes only a run with the same settings."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]

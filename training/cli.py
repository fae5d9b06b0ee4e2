"""``sourcemark train`` and ``sourcemark baseline``: thin commands over the training library."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List

import typer

from sourcemark.bundled import BUNDLED
from sourcemark.command_errors import err, reports_errors
from sourcemark.documents import FormatError
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES
from sourcemark.markup import MarkupError
from sourcemark.training.adapt import AdaptConfig, adapt_backbone, adaptation_texts
from sourcemark.training.baselines import BASELINES, DEFAULT_BASELINE, write_baseline_predictions
from sourcemark.training.config import TrainConfig
from sourcemark.training.pipeline import LEARNING_CURVE_FRACTIONS, train_model

#: What reading the training data or writing the model can fail with.
EXPECTED_ERRORS = (FormatError, MarkupError, ValueError, OSError)

#: ``--kind`` choices: a ``str`` Enum whose values are the names in BASELINES, so they are listed once.
BaselineKind = Enum("BaselineKind", {name: name for name in BASELINES}, type=str)  # type: ignore[misc]

_BASELINE_HELP = "The baseline: " + "; ".join(f"{name}: {cls.summary}" for name, cls in BASELINES.items()) + "."
_CURVE_SHARES = "/".join(str(round(f * 100)) for f in LEARNING_CURVE_FRACTIONS) + "%"


@reports_errors(*EXPECTED_ERRORS)
def train_command(
    out: Path = typer.Option(..., "--out", help="Model directory to write (e.g. models/default)."),
    data: List[str] = typer.Option([BUNDLED], "--data", help=f"Training JSONL files; '{BUNDLED}' = the corpus."),
    dev: List[str] = typer.Option(
        [BUNDLED], "--dev", help=f"Dev JSONL files; '{BUNDLED}' = the corpus dev split."),
    corrected: List[Path] = typer.Option([], "--corrected", help="Corrected documents pulled from Label Studio (weighted up)."),
    base_model: str = typer.Option(
        TrainConfig.base_model, "--base-model",
        help=f"'{TrainConfig.base_model}' (bundled), a model directory or a hub id."),
    epochs: int = typer.Option(TrainConfig.epochs, help="Training epochs."),
    seed: int = typer.Option(TrainConfig.seed, help="Random seed (same seed, same model)."),
    batch_size: int = typer.Option(TrainConfig.batch_size, min=1, help="Windows per batch."),
    learning_rate: float = typer.Option(TrainConfig.learning_rate, help="Encoder learning rate."),
    max_steps: int = typer.Option(
        TrainConfig.max_steps, min=0, help="Stop after this many optimiser steps (0: no limit)."),
    isolate_passages: bool = typer.Option(
        TrainConfig.isolate_passages, "--isolate-passages/--pack-passages",
        help="One passage per window (no neighbouring text) or several passages packed with their context."),
    context_segment: bool = typer.Option(
        TrainConfig.context_segment, "--context-segment/--no-context-segment",
        help="With isolated passages, add the neighbouring text as a second segment (slower, same steps)."),
    freeze_word_embeddings: bool = typer.Option(
        TrainConfig.freeze_word_embeddings, "--freeze-word-embeddings/--train-word-embeddings",
        help="Keep the backbone's word embeddings as pre-trained (faster steps) or train them."),
    freeze_layers: int = typer.Option(
        TrainConfig.freeze_layers, "--freeze-layers",
        help="Keep this many of the encoder's lowest layers as pre-trained (faster steps)."),
    group_by_length: bool = typer.Option(
        TrainConfig.group_by_length, "--group-by-length/--shuffle-freely",
        help="Batch passages of similar length together (less padding, faster training) or shuffle freely."),
    corrected_weight: float = typer.Option(TrainConfig.corrected_weight, help="Loss weight of corrected documents."),
    real_weight: float = typer.Option(
        TrainConfig.real_weight, help="Loss weight of the bundled real (FA-KES) articles beside the corpus."),
    plain_corpus_share: float = typer.Option(
        TrainConfig.plain_corpus_share, min=0.01, max=1.0,
        help="Share of the corpus's passages without a source mention each epoch trains on "
             "(a different part each epoch; faster epochs)."),
    learning_curve: bool = typer.Option(
        False, "--learning-curve", help=f"Also train on {_CURVE_SHARES} of the data for the model card."),
    bootstrap: int = typer.Option(DEFAULT_REPLICATES, help="Bootstrap samples for the card's confidence intervals."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Train the role classifier and source tagger; resumes an interrupted run in the same --out."""
    config = TrainConfig(base_model=base_model, epochs=epochs, seed=seed, batch_size=batch_size,
                         learning_rate=learning_rate, max_steps=max_steps, corrected_weight=corrected_weight,
                         real_weight=real_weight, plain_corpus_share=plain_corpus_share,
                         isolate_passages=isolate_passages, context_segment=context_segment,
                         group_by_length=group_by_length,
                         freeze_word_embeddings=freeze_word_embeddings, freeze_layers=freeze_layers)
    result = train_model(out, config, data, dev, [str(c) for c in corrected],
                         with_learning_curve=learning_curve, bootstrap=bootstrap, progress=not quiet, log=err)
    typer.echo(f"model {result.model_version} written to {out} in {result.seconds / 60:.1f} min "
               f"(best epoch {result.best_epoch}: {result.best_dev})")


@reports_errors(*EXPECTED_ERRORS)
def baseline_command(
    inputs: List[str] = typer.Argument(..., help="Documents to predict (files, folders, '-')."),
    kind: BaselineKind = typer.Option(BaselineKind(DEFAULT_BASELINE), "--kind", help=_BASELINE_HELP),
    out: str = typer.Option("-", "--out", "-o", help="Predictions JSONL (default stdout)."),
    data: List[str] = typer.Option([BUNDLED], "--data", help=f"Training JSONL files; '{BUNDLED}' = the corpus."),
) -> None:
    """Predict with a baseline trained on the same data, in the prediction format."""
    write_baseline_predictions(kind.value, inputs, out, data, on_error=lambda e: err(f"error: {e}"))


@reports_errors(*EXPECTED_ERRORS)
def adapt_command(
    inputs: List[str] = typer.Argument(..., help="Unlabelled articles (files, folders, JSONL, '-')."),
    out: Path = typer.Option(..., "--out", help="Directory for the adapted backbone (new or empty)."),
    base_model: str = typer.Option(
        AdaptConfig.base_model, "--base-model",
        help=f"'{AdaptConfig.base_model}' (bundled), a model directory or a hub id."),
    exclude: List[str] = typer.Option(
        [], "--exclude", help="Documents never to adapt on (your held-out gold); the bundled dev splits always are."),
    epochs: int = typer.Option(AdaptConfig.epochs, help="Passes over the text."),
    max_steps: int = typer.Option(AdaptConfig.max_steps, help="Stop after this many optimiser steps (0: no limit)."),
    learning_rate: float = typer.Option(AdaptConfig.learning_rate, help="Learning rate."),
    seed: int = typer.Option(AdaptConfig.seed, help="Random seed."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Domain-adaptive pre-training: continue the backbone's masked-LM training on unlabelled articles.

    Then train on it with: sourcemark train --base-model OUT ...
    """
    texts, excluded, unreadable = adaptation_texts(inputs, exclude, on_error=lambda e: err(f"skipped: {e}"))
    err(f"{len(texts)} documents to adapt on; {excluded} held out (dev splits, --exclude); {unreadable} unreadable")
    config = AdaptConfig(base_model=base_model, epochs=epochs, max_steps=max_steps,
                         learning_rate=learning_rate, seed=seed)
    result = adapt_backbone(texts, config, out, {"excluded": excluded, "unreadable": unreadable},
                            progress=not quiet, log=err)
    typer.echo(f"adapted backbone written to {out} in {result.seconds / 60:.1f} min ({result.steps} steps, "
               f"held-out masked-LM loss {result.held_out_loss_before:.3f} -> {result.held_out_loss_after:.3f}); "
               f"train with: sourcemark train --base-model {out}")

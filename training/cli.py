"""``sourcemark train`` and ``sourcemark baseline``: thin wrappers over the training library."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from sourcemark.training.config import TrainConfig
from sourcemark.training.corpus import BUNDLED


def train_command(
    out: Path = typer.Option(..., "--out", help="Model directory to write (e.g. models/default)."),
    data: List[str] = typer.Option([BUNDLED], "--data", help="Training JSONL files; 'bundled' = the corpus."),
    dev: List[str] = typer.Option([BUNDLED], "--dev", help="Dev JSONL files; 'bundled' = the corpus dev split."),
    corrected: List[Path] = typer.Option([], "--corrected", help="Corrected documents pulled from Label Studio (weighted up)."),
    base_model: str = typer.Option("minilm", "--base-model", help="'minilm' (bundled), a model directory or a hub id."),
    epochs: int = typer.Option(TrainConfig.epochs, help="Training epochs."),
    seed: int = typer.Option(TrainConfig.seed, help="Random seed (same seed, same model)."),
    batch_size: int = typer.Option(TrainConfig.batch_size, help="Windows per batch."),
    learning_rate: float = typer.Option(TrainConfig.learning_rate, help="Encoder learning rate."),
    max_steps: int = typer.Option(0, help="Stop after this many optimiser steps (0: no limit)."),
    isolate_passages: bool = typer.Option(
        TrainConfig.isolate_passages, "--isolate-passages/--pack-passages",
        help="One passage per window (no neighbouring text) or several passages packed with their context."),
    freeze_word_embeddings: bool = typer.Option(
        TrainConfig.freeze_word_embeddings, "--freeze-word-embeddings/--train-word-embeddings",
        help="Keep the backbone's word embeddings as pre-trained (default: about 40% faster steps) or train them."),
    group_by_length: bool = typer.Option(
        TrainConfig.group_by_length, "--group-by-length/--shuffle-freely",
        help="Batch passages of similar length together (default: about 25% faster training) or shuffle freely."),
    corrected_weight: float = typer.Option(TrainConfig.corrected_weight, help="Loss weight of corrected documents."),
    learning_curve: bool = typer.Option(False, "--learning-curve", help="Also train on 25/50/75% for the model card."),
    bootstrap: int = typer.Option(1000, help="Bootstrap samples for the card's confidence intervals."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Train the role classifier and source tagger; resumes an interrupted run in the same --out."""
    from sourcemark.documents import FormatError
    from sourcemark.training.markup import MarkupError
    from sourcemark.training.pipeline import train_model

    config = TrainConfig(base_model=base_model, epochs=epochs, seed=seed, batch_size=batch_size,
                         learning_rate=learning_rate, max_steps=max_steps, corrected_weight=corrected_weight,
                         isolate_passages=isolate_passages, group_by_length=group_by_length,
                         freeze_word_embeddings=freeze_word_embeddings)
    try:
        result = train_model(out, config, data, dev, [str(c) for c in corrected],
                             with_learning_curve=learning_curve, bootstrap=bootstrap, progress=not quiet,
                             log=lambda m: typer.echo(m, err=True))
    except (FormatError, MarkupError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    typer.echo(f"model {result.model_version} written to {out} in {result.seconds / 60:.1f} min "
               f"(best epoch {result.best_epoch}: {result.best_dev})")


def baseline_command(
    inputs: List[str] = typer.Argument(..., help="Documents to predict (files, folders, '-')."),
    kind: str = typer.Option("tfidf", "--kind", help="'tfidf' (TF-IDF + logistic regression) or 'rules' (cue words)."),
    out: str = typer.Option("-", "--out", "-o", help="Predictions JSONL (default stdout)."),
    data: List[str] = typer.Option([BUNDLED], "--data", help="Training JSONL files; 'bundled' = the corpus."),
) -> None:
    """Predict with a baseline trained on the same data, in the prediction format."""
    from sourcemark.jsonl import atomic_output, dumps_document
    from sourcemark.readers import ReadError, read_inputs
    from sourcemark.training.baselines import BASELINES
    from sourcemark.training.corpus import load_documents

    if kind not in BASELINES:
        typer.echo(f"error: --kind must be one of {', '.join(BASELINES)}", err=True)
        raise typer.Exit(1)
    system = BASELINES[kind]().fit(load_documents(data, "train"))
    docs = []
    for result in read_inputs(inputs):
        if isinstance(result, ReadError):
            typer.echo(f"error: {result}", err=True)
        else:
            docs.append(result)
    with atomic_output(out) as handle:
        for doc in system.predict(docs):
            handle.write(dumps_document(doc) + "\n")

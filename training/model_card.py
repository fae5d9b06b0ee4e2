"""``MODEL_CARD.md`` generated from the training run itself, never written by hand."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

from sourcemark.model.encoding import passage_token_limit
from sourcemark.training.config import TrainConfig

#: ``{passage_limit}``: the word pieces of a passage the run's windows hold.
KNOWN_LIMITS = """\
- Trained on a corpus written for this project (mostly Syrian-war reporting, about a fifth other
  conflicts), real FA-KES wire and state-media articles, and any corrections pulled from Label
  Studio; blogs, long-form analysis and comment sections are real only in the seeds, and other
  languages or machine-translated text will score lower.
- English only. Passages longer than the window ({passage_limit} word pieces) are truncated:
  mentions past that point are not found.
- Roles are decided per passage from its own text and structure features (comment section,
  position, line shape, quotation marks), without the neighbouring text: a quotation continued
  over several passages loses its attribution unless the segmenter kept it in one passage.
- Source types of outlets the registry does not know are the model's guess from context. A mention
  that refers back ("he", "the official") takes the type of the source named just before it in its
  own or the previous passage, which is wrong when that was another source.
- Text without line breaks (datasets, CSV exports) is cut by rules for headlines, dates, datelines,
  credit lines and page furniture; lists of related headlines without punctuation are cut by
  headline length and a few cues, often a word or two off, and a sentence-case section heading
  ("Chemical attacks") runs into the sentence after it.
"""


def _fmt(value: Any) -> str:
    if not isinstance(value, float):
        return str(value)
    return f"{value:.3f}" if value == 0 or abs(value) >= 0.01 else f"{value:.1e}"  # learning rates stay readable


#: Dev-metric columns of the card: (summary key, header).
METRIC_COLUMNS = (("role_macro_f1", "role macro-F1"), ("role_accuracy", "role accuracy"),
                  ("mention_f1", "mention F1 (typed)"), ("span_mention_f1", "mention F1 (span only)"),
                  ("type_accuracy", "type accuracy on matched spans"), ("boundary_f1", "boundary F1"))


def _metric_row(name: str, metrics: Mapping[str, Any]) -> str:
    def cell(key: str) -> str:
        value = metrics.get(key)
        ci = metrics.get(f"{key}_ci")
        if value is None:
            return "-"
        return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    return f"| {name} | " + " | ".join(cell(key) for key, _ in METRIC_COLUMNS) + " |"


def render_model_card(
    *,
    model_version: str,
    config: TrainConfig,
    counts: Mapping[str, Any],
    data_hash: str,
    seconds: float,
    best_epoch: int,
    temperature: float,
    history: list[dict[str, Any]],
    evaluations: Mapping[str, Mapping[str, Mapping[str, Any]]],
    learning_curve: list[dict[str, Any]] | None = None,
    learning_curve_source: str = "",
    registry_version: str = "",
) -> str:
    """The card as Markdown. ``evaluations`` maps dev-set name -> system name -> metrics."""
    lines = [
        f"# sourcemark model `{model_version}`",
        "",
        "Tags each passage of an article as `claim`, `attributed_report`, `analysis`, `reader_comment` "
        "or `other` and marks attributed source mentions with their type (docs/ANNOTATION_GUIDE.md).",
        "One encoder (`" + str(config.base_model) + "`), a role head on pooled passage tokens plus "
        "structure features, and a BIO source tagger, trained jointly.",
        "",
        "## Training data",
        "",
        f"- data hash: `{data_hash}`",
    ]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in counts.items()]
    lines += [
        f"- source registry version: {registry_version}",
        "",
        "## Hyper-parameters",
        "",
        "| name | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in asdict(config).items()]
    minutes = seconds / 60
    lines += [
        "",
        f"Wall time: {minutes:.1f} min. Best epoch (mean of dev role macro-F1 and mention F1): {best_epoch}. "
        f"Temperature (fitted on the dev split): {temperature:.3f}.",
        "",
        "## Dev metrics (95% bootstrap CIs over documents)",
        "",
        "Systems label the annotators' passages, except the row \"own segmentation\", where the model cuts the "
        "raw text itself (what a user gets; boundary F1 measures the cut). The real dev split (FA-KES dev + the "
        "seeds) was fixed before training and nothing was selected on it.",
    ]
    for dev_name, systems in evaluations.items():
        lines += ["", f"### {dev_name}", "", "| system | " + " | ".join(h for _, h in METRIC_COLUMNS) + " |",
                  "|---" * (len(METRIC_COLUMNS) + 1) + "|"]
        lines += [_metric_row(name, metrics) for name, metrics in systems.items()]
    if history:
        keys = [k for k in history[0] if k != "epoch"]
        lines += ["", "## Training history", "", "| epoch | " + " | ".join(keys) + " |",
                  "|---" * (len(keys) + 1) + "|"]
        lines += [f"| {h['epoch']} | " + " | ".join(_fmt(h.get(k)) for k in keys) + " |" for h in history]
    lines += ["", "## Learning curve", ""]
    if learning_curve:
        if learning_curve_source:
            lines += [f"Corpus dev split scores by share of the training documents; {learning_curve_source}.", ""]
        lines += ["| share of training data | documents | corpus dev role macro-F1 | corpus dev mention F1 |",
                  "|---|---|---|---|"]
        lines += [f"| {int(p['fraction'] * 100)}% | {p['documents']} | {_fmt(p['role_macro_f1'])} | "
                  f"{_fmt(p['mention_f1'])} |" for p in learning_curve]
    else:
        lines += ["Not measured for this run (`sourcemark train --learning-curve` or "
                  "`bench/learning_curve.py` measures it)."]
    limit = passage_token_limit(config.max_length, config.context, config.isolate_passages, config.context_segment)
    lines += ["", "## Known limits", "", KNOWN_LIMITS.format(passage_limit=limit)]
    return "\n".join(lines)


def write_model_card(out_dir: Path, **kwargs: Any) -> Path:
    """Render and write ``MODEL_CARD.md`` into the model directory."""
    path = Path(out_dir) / "MODEL_CARD.md"
    path.write_text(render_model_card(**kwargs), encoding="utf-8")
    return path

"""The network: one transformer encoder, a passage-role head and a source-mention tagger.

Both heads read the same token states, so one forward pass per window serves
both tasks. The role head pools each passage's tokens (mean and first token)
and adds the structure features; the tagger scores BIO tags on every token.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sourcemark.labels import ROLES
from sourcemark.model.encoding import TAGS
from sourcemark.model.features import FEATURE_NAMES


class SourcemarkNet(nn.Module):
    """Encoder + role head + BIO tagger.

    The role head sees three poolings of a passage's tokens: the mean, the
    first token, and a learned attention pool (a cue such as "according to
    SOHR" at the end of a long sentence is diluted in the mean but picked out
    by attention), plus the structure features and the tagger's own evidence
    that the passage contains a source mention.
    """

    def __init__(self, encoder: nn.Module, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.attention_scorer = nn.Linear(hidden, 1)
        self.role_head = nn.Sequential(
            nn.Linear(3 * hidden + len(FEATURE_NAMES) + 1, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, len(ROLES)),
        )
        self.tag_head = nn.Linear(hidden, len(TAGS))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        passage_batch: torch.Tensor,
        passage_spans: torch.Tensor,
        features: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Role logits (one row per passage) and tag logits (per token)."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        states = self.dropout(states)
        tag_logits = self.tag_head(states)
        mask = self.span_mask(states.shape[1], passage_spans).to(states.dtype)
        rows = states[passage_batch]  # (P, L, H)
        mention = (1.0 - tag_logits.softmax(-1)[..., 0])[passage_batch]  # P(token is in a mention)
        evidence = (mention * mask).amax(dim=1, keepdim=True)
        pooled = self.pool(rows, mask, passage_spans)
        role_logits = self.role_head(torch.cat([pooled, features, evidence], dim=-1))
        return {"role_logits": role_logits, "tag_logits": tag_logits}

    @staticmethod
    def span_mask(length: int, spans: torch.Tensor) -> torch.Tensor:
        """(P, L) booleans: which token positions belong to each passage."""
        positions = torch.arange(length, device=spans.device)
        return (positions[None, :] >= spans[:, :1]) & (positions[None, :] < spans[:, 1:2])

    def pool(self, rows: torch.Tensor, mask: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        """Mean, first-token and attention pooling of each passage's token states."""
        mean = (rows * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        first = rows[torch.arange(rows.shape[0], device=rows.device), spans[:, 0]]
        scores = self.attention_scorer(rows).squeeze(-1).masked_fill(mask == 0, float("-inf"))
        attended = (scores.softmax(-1)[:, :, None] * rows).sum(1)
        return torch.cat([mean, first, attended], dim=-1)


def collate(windows: list[dict[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a list of window dicts (see ``Window.to_dict``) into one batch."""
    length = max(len(w["input_ids"]) for w in windows)
    input_ids = torch.full((len(windows), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(windows), length), dtype=torch.long)
    tags = torch.full((len(windows), length), -100, dtype=torch.long)
    passage_batch, spans, features, roles = [], [], [], []
    for b, w in enumerate(windows):
        n = len(w["input_ids"])
        input_ids[b, :n] = torch.tensor(w["input_ids"], dtype=torch.long)
        attention[b, :n] = 1
        if w.get("tags"):
            tags[b, :n] = torch.tensor(w["tags"], dtype=torch.long)
        passage_batch += [b] * len(w["passage_spans"])
        spans += [list(s) for s in w["passage_spans"]]
        features += w["features"]
        roles += w.get("roles") or [-100] * len(w["passage_spans"])
    return {
        "input_ids": input_ids,
        "attention_mask": attention,
        "passage_batch": torch.tensor(passage_batch, dtype=torch.long),
        "passage_spans": torch.tensor(spans, dtype=torch.long).reshape(-1, 2),
        "features": torch.tensor(features, dtype=torch.float32).reshape(-1, len(FEATURE_NAMES)),
        "roles": torch.tensor(roles, dtype=torch.long),
        "tags": tags,
    }

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
    """Encoder + role head + BIO tagger."""

    def __init__(self, encoder: nn.Module, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.role_head = nn.Sequential(
            nn.Linear(2 * hidden + len(FEATURE_NAMES), hidden),
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
        pooled = self.pool(states, passage_batch, passage_spans)
        role_logits = self.role_head(torch.cat([pooled, features], dim=-1))
        return {"role_logits": role_logits, "tag_logits": self.tag_head(states)}

    @staticmethod
    def pool(states: torch.Tensor, passage_batch: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        """Mean of each passage's token states, concatenated with its first token's state."""
        length = states.shape[1]
        positions = torch.arange(length, device=states.device)
        mask = (positions[None, :] >= spans[:, :1]) & (positions[None, :] < spans[:, 1:2])
        mask = mask.to(states.dtype)
        rows = states[passage_batch]  # (P, L, H)
        mean = (rows * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        first = rows[torch.arange(rows.shape[0], device=states.device), spans[:, 0]]
        return torch.cat([mean, first], dim=-1)


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

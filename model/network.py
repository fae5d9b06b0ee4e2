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
        token_type_ids: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Role logits (one row per passage) and tag logits (per token)."""
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and getattr(self.encoder.config, "type_vocab_size", 1) >= 2:
            inputs["token_type_ids"] = token_type_ids
        states = self.encoder(**inputs).last_hidden_state
        states = self.dropout(states)
        tag_logits = self.tag_head(states)
        owner, first_index = self.token_owners(states.shape[0], states.shape[1], passage_batch, passage_spans)
        flat = states.reshape(-1, states.shape[-1])
        keep = owner >= 0
        tokens, index = flat[keep], owner[keep]
        n = passage_spans.shape[0]
        mention = 1.0 - tag_logits.reshape(-1, tag_logits.shape[-1]).softmax(-1)[keep][:, 0]
        evidence = torch.zeros(n, dtype=states.dtype, device=states.device).scatter_reduce(
            0, index, mention, reduce="amax", include_self=False)
        pooled = self.pool(tokens, index, flat[first_index], n)
        role_logits = self.role_head(torch.cat([pooled, features, evidence[:, None]], dim=-1))
        return {"role_logits": role_logits, "tag_logits": tag_logits}

    @staticmethod
    def token_owners(batch: int, length: int, passage_batch: torch.Tensor,
                     spans: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For every flattened token position, the passage it belongs to (-1: none), and each passage's first token."""
        owner = torch.full((batch * length,), -1, dtype=torch.long, device=spans.device)
        starts = passage_batch * length + spans[:, 0]
        ends = passage_batch * length + spans[:, 1]
        for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
            owner[s:e] = k
        return owner, starts

    def pool(self, tokens: torch.Tensor, index: torch.Tensor, first: torch.Tensor, n: int) -> torch.Tensor:
        """Mean, first-token and attention pooling of each passage's token states, in O(tokens).

        ``tokens`` are the states of tokens that belong to a passage and
        ``index`` their passage numbers; sums per passage are scatter-adds, so
        no (passages x length x hidden) tensor is ever built.
        """
        hidden = tokens.shape[-1]
        counts = torch.bincount(index, minlength=n).clamp(min=1).to(tokens.dtype)
        mean = torch.zeros(n, hidden, dtype=tokens.dtype, device=tokens.device).index_add(0, index, tokens)
        mean = mean / counts[:, None]
        scores = self.attention_scorer(tokens).squeeze(-1)
        top = torch.full((n,), float("-inf"), dtype=tokens.dtype, device=tokens.device).scatter_reduce(
            0, index, scores, reduce="amax", include_self=True)
        weights = (scores - top[index]).exp()
        norm = torch.zeros(n, dtype=tokens.dtype, device=tokens.device).index_add(0, index, weights)
        attended = torch.zeros(n, hidden, dtype=tokens.dtype, device=tokens.device).index_add(
            0, index, weights[:, None] * tokens) / norm.clamp(min=1e-12)[:, None]
        return torch.cat([mean, first, attended], dim=-1)


def collate(windows: list[dict[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a list of window dicts (see ``Window.to_dict``) into one batch."""
    length = max(len(w["input_ids"]) for w in windows)
    input_ids = torch.full((len(windows), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(windows), length), dtype=torch.long)
    tags = torch.full((len(windows), length), -100, dtype=torch.long)
    token_types = torch.zeros((len(windows), length), dtype=torch.long)
    passage_batch, spans, features, roles = [], [], [], []
    for b, w in enumerate(windows):
        n = len(w["input_ids"])
        input_ids[b, :n] = torch.tensor(w["input_ids"], dtype=torch.long)
        attention[b, :n] = 1
        if w.get("token_types"):
            token_types[b, :n] = torch.tensor(w["token_types"], dtype=torch.long)
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
        "token_type_ids": token_types,
    }

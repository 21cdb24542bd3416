"""Embedding transfer: a run's token embedding starts from another run's trained one
(`embed_from`, the source's run id; run/start.py finds the source in the store).

- GrokTransfer (Xu, Ni, Wang, Hu 2025, "Let me grok for you: accelerating grokking via embedding
  transfer from a weaker model", ICLR 2025, §2.2 and Fig. 1/6): a weaker model (e.g. an MLP with
  a 4-dimensional embedding) is trained briefly; the target's embedding is factored, W_E = A·B
  (`embed_rank` r = the source's embedding width), A ← the source's embedding E_W, B random,
  and both are trained.
- Plain transfer (Furuta, Minegishi, Iwasawa, Matsuo 2024, "Towards empirical interpretation of
  internal circuits and properties in grokked transformers on modular polynomials"): the target's
  embedding table is the source's (`embed_rank` 0: the widths must agree), e.g. a network
  grokked on x+y gives its embedding to x−y.

Only the rows of the element tokens (the p numbers, or a group's elements) are transferred; a
transformer's operator and `=` tokens keep their own initialisation, so a source and a target of
different kinds (an MLP and a transformer) can share an embedding. Everything else in the target
starts from its own seeded initialisation; nothing is frozen (unless the
`freeze-embedding` intervention, freeze.py, holds the transferred embedding fixed).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from phenolab.errors import ConfigError
from phenolab.models.embedding import embedding_width


def transfer_target(rank: int) -> str:
    """The parameter a transferred embedding initialises: the table W_E, or the factor A
    (W_E_A) of a factored embedding."""
    return "W_E_A" if rank else "W_E"


def check_transfer(
    source: torch.Tensor, source_rows: int, rows: int, model_cfg, field: str = "embed_from"
) -> None:
    """A ConfigError naming `field` unless a source embedding [1, vocab_s, d_s] whose task has
    `source_rows` element tokens fits a target of `model_cfg` whose task has `rows`."""
    width = embedding_width(model_cfg)
    if width is None:
        raise ConfigError(
            f"{field}: model={model_cfg.model} has no token embedding (mlp and transformer have)"
        )
    if source_rows != rows:
        raise ConfigError(
            f"{field}: the source's task has {source_rows} element tokens, this one {rows};"
            " transfer between tasks on the same elements (the same p or group)"
        )
    d_source = source.shape[2]
    rank = model_cfg.embed_rank
    if rank and d_source != rank:
        raise ConfigError(
            f"{field}: the source embedding is {d_source} wide but embed_rank is {rank}; "
            f"GrokTransfer's A = E_W needs embed_rank={d_source}"
        )
    if not rank and d_source != width:
        raise ConfigError(
            f"{field}: the source embedding is {d_source} wide, this model's W_E {width}; "
            f"give embed_rank={d_source} to map it through a trained {d_source}×{width} matrix"
            " (GrokTransfer), or a model of the same width"
        )


@torch.no_grad()
def load_embeddings(
    model: torch.nn.Module, rank: int, sources: Sequence[torch.Tensor | None], rows: int
) -> None:
    """Write member e's source embedding sources[e] ([1, vocab_s, d_s], or None: keep its own
    initialisation) into the first `rows` rows of the model's transfer target."""
    target = getattr(model, transfer_target(rank))  # [E, vocab, d or r]
    for e, source in enumerate(sources):
        if source is not None:
            target[e, :rows] = source[0, :rows].to(target.device, target.dtype)

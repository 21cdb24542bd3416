"""Freezing the token embedding: the frozen pre-grokked embedding of Furuta, Minegishi, Iwasawa,
Matsuo (2024), "Towards empirical interpretation of internal circuits and properties in grokked
transformers on modular polynomials" (TMLR; arXiv:2402.16726): a network's embedding is loaded
from a network grokked on another operation (`embed_from`, interventions/transfer.py) and held
fixed while the rest trains."""

from __future__ import annotations

import torch

from phenolab.errors import ConfigError
from phenolab.interventions.base import Intervention
from phenolab.models.embedding import FACTORS

EMBEDDING = ("W_E", *FACTORS)  # the parameters that make up a token embedding


class FreezeEmbedding(Intervention):
    """Hold the token embedding (W_E, or both factors of a factored one) at its value when
    training starts — a transferred embedding, or the initialisation — by writing it back after
    every optimizer step. Exact for any optimizer: its update and its weight decay of the
    embedding are undone, whatever they were; the rest of the model trains as usual."""

    id = "freeze-embedding"
    summary = "hold the token embedding fixed at its start value (Furuta et al. 2024)"

    def __init__(self, values, model, optimizer) -> None:
        super().__init__(values, model, optimizer)
        named = dict(model.named_parameters())
        self.frozen = [(named[n], named[n].detach().clone()) for n in EMBEDDING if n in named]
        if not self.frozen:
            raise ConfigError(
                f"interventions: {self.id} needs a model with a token embedding (mlp, transformer)"
            )

    @torch.no_grad()
    def on_step_end(self, state) -> None:
        for p, start in self.frozen:
            p.copy_(start)

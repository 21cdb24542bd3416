"""The token embedding W_E [E, vocab, d] of the models that have one (mlp, transformer).

Either one trainable table, or (`embed_rank` r > 0) the product of two trainable factors

    W_E = A · B,   A = W_E_A [E, vocab, r],   B = W_E_B [E, r, d]

— the low-rank embedding of GrokTransfer (Xu, Ni, Wang, Hu 2025, "Let me grok for you:
accelerating grokking via embedding transfer from a weaker model", ICLR 2025, §2.2): A is
initialised with a weaker model's trained embedding (`embed_from`, interventions/transfer.py)
and B at random, and both train. Without a transfer, A and B are both random: the paper's
low-rank control (their Fig. 15a).

Initialisation (each times the member's init scale α): the table N(0, 1/d), as before; the
factors A ~ N(0, 1/r) and B ~ N(0, 1/d). Then E[B Bᵀ] = I_r, so a row a of A keeps its squared
norm through B in expectation (‖a B‖² ≈ ‖a‖²): a random A·B has the table's row norms (α = 1),
and a transferred A = E_W gives rows as long as the weaker model's.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from phenolab.models.init import stacked_normal

FACTORS = ("W_E_A", "W_E_B")  # the factor parameters of a factored embedding
EMBEDDED = ("mlp", "transformer")  # the model kinds with a token embedding


def embedding_width(cfg) -> int | None:
    """d of the token embedding of a model config (d_embed of the mlp, d_model of the
    transformer); None for a model without one."""
    if cfg.model not in EMBEDDED:
        return None
    return cfg.d_embed if cfg.model == "mlp" else cfg.d_model


class TokenEmbedding:
    """Mixin for the models with a token embedding: `init_embedding` registers W_E (or its
    factors) and `embedding()` returns the table [E, vocab, d]."""

    def init_embedding(
        self,
        gens: list[torch.Generator],
        vocab: int,
        d: int,
        scales: list[float],
        rank: int = 0,
    ) -> None:
        self.embed_rank = rank
        if rank == 0:
            self.W_E = stacked_normal(gens, (vocab, d), d**-0.5, scales)  # [E, vocab, d]
            return
        self.W_E_A = stacked_normal(gens, (vocab, rank), rank**-0.5, scales)  # [E, vocab, r]
        self.W_E_B = stacked_normal(gens, (rank, d), d**-0.5, scales)  # [E, r, d]

    def embedding(self) -> torch.Tensor:
        """The token embedding [E, vocab, d]."""
        if self.embed_rank == 0:
            return self.W_E
        return torch.bmm(self.W_E_A, self.W_E_B)  # [E, vocab, d]


def embedding_of(weights: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
    """The token embedding [E, vocab, d] from a model's named weights (a state dict, e.g. of a
    checkpoint): W_E, or W_E_A · W_E_B; None for a model without a token embedding."""
    if "W_E" in weights:
        return weights["W_E"]
    if all(name in weights for name in FACTORS):
        return torch.bmm(weights["W_E_A"], weights["W_E_B"])
    return None

"""Interventions that are config fields rather than training hooks: they change where a run
starts or how it steps, so they are part of its config and id (each a no-op at its default).
Listed by `phenolab interventions` beside the hooks of `interventions/`; a test checks that
every field named here exists."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldIntervention:
    id: str
    flags: str  # the options that apply it
    fields: tuple[str, ...]  # the config fields it sets
    summary: str
    source: str

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": "config",
            "flags": self.flags,
            "fields": list(self.fields),
            "summary": self.summary,
            "source": self.source,
        }


FIELD_INTERVENTIONS = (
    FieldIntervention(
        "stablemax",
        "--loss stablemax --loss-dtype float64",
        ("loss", "loss_dtype"),
        "cross-entropy through StableMax instead of softmax (no softmax collapse)",
        "Prieto et al. 2025",
    ),
    FieldIntervention(
        "muon",
        "--optimizer muon [--muon-lr LR]",
        ("optimizer", "muon_lr"),
        "orthogonalised Nesterov momentum on the hidden matrices, AdamW on the rest",
        "Jordan et al. 2024; Tveit et al. 2025",
    ),
    FieldIntervention(
        "lottery-ticket",
        "--ticket-from RUN --sparsity K [--rewind init|STEP] [--mask-kind random|norm-matched] "
        "[--reinit]",
        ("ticket_from", "sparsity", "rewind", "mask_kind", "reinit"),
        "RUN's final-magnitude mask kept applied, the survivors rewound (phenolab imp iterates it)",
        "Frankle & Carbin 2019; Frankle et al. 2020",
    ),
    FieldIntervention(
        "grokking-ticket",
        "--ticket-from GROKKED_RUN --sparsity 0.6 --rewind init",
        ("ticket_from", "sparsity", "rewind"),
        "the ticket of a run that grokked, from its initialisation: generalizes without the delay",
        "Minegishi et al. 2024",
    ),
    FieldIntervention(
        "embedding-transfer",
        "--embed-from RUN [--embed-rank R]",
        ("embed_from", "embed_rank"),
        "RUN's trained embedding as the start (GrokTransfer: W_E = A·B with A from RUN; rank 0: "
        "the table copied); freeze it with --intervention freeze-embedding",
        "Xu et al. 2025; Furuta et al. 2024",
    ),
    FieldIntervention(
        "init-scale",
        "--init-scale ALPHA",
        ("init_scale",),
        "every initial weight × α: a large α memorizes first and groks as the norm decays",
        "Liu et al. 2023 (Omnigrok)",
    ),
    FieldIntervention(
        "continuation",
        "--init-from RUN",
        ("init_from",),
        "start from RUN's final weights (e.g. on less data: ungrokking)",
        "Varma et al. 2023",
    ),
)

"""Where a run starts: its own seeded initialisation (the default), another run's final weights
(`init_from`: a continuation), a lottery ticket of another run (`ticket_from` and the ticket
fields: its mask and rewound weights), or another run's token embedding (`embed_from`). The run
layer reads this section (run/start.py) to build each member's start."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from phenolab import param
from phenolab.errors import ConfigError

RUN_ID = re.compile(r"[0-9a-f]{12}")  # the form of RunConfig.run_id()
PRUNE_SCOPES = ("global", "layer")  # interventions/masks.py SCOPES
MASK_KINDS = ("magnitude", "random", "norm-matched")
TICKET_FIELDS = ("sparsity", "prune_scope", "mask_kind", "rewind", "reinit")  # need ticket_from


@dataclass(frozen=True)
class StartConfig:
    """Where a run starts (default: its own seeded initialisation)."""

    init_from: str | None = param(
        None,
        "run id of a finished run whose final weights initialise this one (a continuation;"
        " the optimizer starts afresh)",
    )
    ticket_from: str | None = param(
        None,
        "run id of a finished run whose final weights define this run's pruning mask and to"
        " whose start (or step, see rewind) it is rewound: a lottery ticket (run/start.py)",
    )
    sparsity: float = param(
        0.0,
        "with ticket_from: fraction of the prunable weights (weight matrices, embeddings) pruned,"
        " in [0, 1); 0: no mask (a dense rewind)",
    )
    prune_scope: str = param(
        "global",
        "with ticket_from: rank |w| over all prunable weights (global) or in each tensor (layer)",
    )
    mask_kind: str = param(
        "magnitude",
        "with ticket_from: magnitude (keep the largest final |w|), random (the control: as many"
        " weights kept in each tensor, at random positions) or norm-matched (the control of"
        " Minegishi et al.: no mask, the start scaled to the L2 norm the magnitude mask leaves)",
    )
    rewind: str = param(
        "init",
        "with ticket_from: start from the weights the parent started from (init) or from its"
        " weights after step k (kept by the parent's keep_checkpoint_at)",
    )
    reinit: bool = param(
        False, "with ticket_from: a fresh initialisation instead of rewinding (the re-init control)"
    )
    keep_checkpoint_at: tuple[int, ...] = param(
        (), "steps at which to keep this run's weights, for tickets rewound to them (rewind=k)"
    )
    embed_from: str | None = param(
        None,
        "run id of a finished run whose final token embedding initialises this one's (W_E, or"
        " with embed_rank > 0 its factor A: GrokTransfer); the rest starts from this run's init",
    )

    def __post_init__(self) -> None:
        """Valid values. The ticket fields may be set without ticket_from (a catalog arm gets
        its parent's id when its runs are made): the run layer refuses to start such a run.
        (keep_checkpoint_at ≤ steps is checked by the run config, which sees both.)"""
        if self.init_from is not None and not RUN_ID.fullmatch(self.init_from):
            raise ConfigError(
                f"init_from: expected a full 12-character run id (hex), got {self.init_from!r}"
            )
        if self.embed_from is not None:
            if not RUN_ID.fullmatch(self.embed_from):
                raise ConfigError(
                    "embed_from: expected a full 12-character run id (hex), got "
                    f"{self.embed_from!r}"
                )
            other = "init_from" if self.init_from is not None else None
            other = "ticket_from" if self.ticket_from is not None else other
            if other:
                raise ConfigError(
                    f"embed_from: a run starting from {other}'s weights takes its embedding"
                    f" from there; give one of {other} and embed_from"
                )

        keep = tuple(sorted(set(self.keep_checkpoint_at)))
        object.__setattr__(self, "keep_checkpoint_at", keep)
        if keep and keep[0] < 0:
            raise ConfigError(f"keep_checkpoint_at: steps must be ≥ 0, got {keep}")
        rewind = str(self.rewind).strip().lower()
        if rewind != "init":
            if not rewind.isdigit():
                raise ConfigError(f"rewind: expected init or a step k ≥ 0, got {self.rewind!r}")
            rewind = str(int(rewind))  # one spelling per step, so equal runs share one id
        object.__setattr__(self, "rewind", rewind)
        if not 0 <= self.sparsity < 1:
            raise ConfigError(f"sparsity: must be in [0, 1), got {self.sparsity}")
        if self.prune_scope not in PRUNE_SCOPES:
            raise ConfigError(
                f"prune_scope: unknown {self.prune_scope!r} (valid: {', '.join(PRUNE_SCOPES)})"
            )
        if self.mask_kind not in MASK_KINDS:
            raise ConfigError(
                f"mask_kind: unknown {self.mask_kind!r} (valid: {', '.join(MASK_KINDS)})"
            )
        if self.mask_kind == "norm-matched" and self.sparsity == 0:
            raise ConfigError(
                "mask_kind: norm-matched scales to the norm a mask at `sparsity` leaves; give a"
                " sparsity > 0"
            )
        if self.ticket_from is None:
            return  # ticket fields without a parent: an error when the run starts (run/start.py)
        if not RUN_ID.fullmatch(self.ticket_from):
            raise ConfigError(
                f"ticket_from: expected a full 12-character run id (hex), got {self.ticket_from!r}"
            )
        if self.init_from is not None:
            raise ConfigError(
                "init_from: a ticket (ticket_from) starts from its parent's rewound weights;"
                " give one of init_from and ticket_from"
            )
        if self.reinit and self.rewind != "init":
            raise ConfigError(f"rewind: {self.rewind} contradicts reinit (a fresh initialisation)")


def ticket_fields_without_parent(cfg: StartConfig) -> list[str]:
    """Ticket fields set (not at their default) although ticket_from names no parent."""
    if cfg.ticket_from is not None:
        return []
    return [
        f.name
        for f in dataclasses.fields(cfg)
        if f.name in TICKET_FIELDS and getattr(cfg, f.name) != f.default
    ]

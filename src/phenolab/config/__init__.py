"""Typed, frozen run configs; canonical JSON; run ids.

A run config is three sections owned by their components: the task (`tasks.modular`), the model
(`models`) and the training (`train`). Every leaf field has a name unique across sections, so that
the CLI can offer `--FIELD VALUE` for each and a flat dict can name any field.

The run id is a hash of the canonical config: only fields that differ from their defaults, plus
`phenolab.RUN_FORMAT`. New fields therefore default to a no-op and old ids stay valid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from phenolab import RUN_FORMAT
from phenolab.errors import ConfigError
from phenolab.models import ModelConfig
from phenolab.tasks.images import IMAGE_OPS
from phenolab.tasks.modular import FEATURE_OPS, TaskConfig, feature_dim
from phenolab.train import closedform
from phenolab.train.config import TrainConfig


@dataclass(frozen=True)
class RunConfig:
    """One training run (one ensemble member): task, model and training."""

    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        from phenolab.measures import MEASURES, REQUIREMENTS

        _check_inputs(self)

        for name in self.train.measures:
            if name not in MEASURES:
                raise ConfigError(
                    f"measures: unknown measure {name!r} (valid: {', '.join(sorted(MEASURES))})"
                )
            problem = REQUIREMENTS[name](self) if name in REQUIREMENTS else None
            if problem:
                raise ConfigError(f"measures: {problem}")

    # -- flat view -------------------------------------------------------------------------
    def flat(self) -> dict[str, Any]:
        """All leaf fields as one dict {name: value}."""
        out: dict[str, Any] = {}
        for section in SECTIONS:
            out.update(dataclasses.asdict(getattr(self, section)))
        return out

    def replace(self, **overrides: Any) -> RunConfig:
        """A copy with leaf fields replaced by name, values coerced and validated."""
        return from_flat({**self.flat(), **overrides})

    # -- identity ---------------------------------------------------------------------------
    def canonical(self) -> dict[str, Any]:
        """Fields that differ from their defaults, sorted: the saved identity of the run."""
        default = RunConfig().flat()
        return {k: _jsonable(v) for k, v in sorted(self.flat().items()) if v != default[k]}

    def run_id(self) -> str:
        payload = json.dumps({"config": self.canonical(), "format": RUN_FORMAT}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        """The full config, every field, nested by section."""
        return {
            s: {k: _jsonable(v) for k, v in dataclasses.asdict(getattr(self, s)).items()}
            for s in SECTIONS
        }


def _check_inputs(cfg: RunConfig) -> None:
    """Feature tasks (real vectors) need a model that reads them (dense, rf; images also cnn),
    and those models need them; online ones a batch; the closed-form solver its own setting
    (closedform.check)."""
    features = cfg.task.op in FEATURE_OPS
    model = cfg.model.model
    if features and model not in FEATURE_MODELS:
        raise ConfigError(f"model: op={cfg.task.op} reads feature vectors: use model=dense or rf")
    if not features and model in FEATURE_MODELS:
        raise ConfigError(
            f"model: {model} reads feature vectors (op: {', '.join(FEATURE_OPS)}), "
            f"not {cfg.task.op}"
        )
    if model == "cnn" and cfg.task.op not in IMAGE_OPS:
        raise ConfigError(
            f"model: cnn reads images (op: {', '.join(IMAGE_OPS)}), not {cfg.task.op}"
        )
    if cfg.task.op == "parity" and cfg.task.n_train == 0 and cfg.train.batch_size == 0:
        raise ConfigError("batch_size: online training (n_train = 0) needs a batch size ≥ 1")
    if cfg.model.model == "rf" and cfg.model.feature_map == "subset":
        if cfg.model.width > feature_dim(cfg.task):
            raise ConfigError(
                f"width: feature_map=subset picks p = width of the {feature_dim(cfg.task)} input "
                f"coordinates; got width {cfg.model.width}"
            )
    closedform.check(cfg)


FEATURE_MODELS = ("dense", "rf", "cnn")  # models that read feature vectors


SECTIONS = ("task", "model", "train")

# Fields that may differ between the members of one ensemble (trained in lockstep, one process).
# Every other field must be shared: it fixes shapes, the task or the optimizer's kind. Members'
# `interventions` may differ only in their float parameters: the ids, their order and integer
# parameters (`interventions.spec.signature`) are shared. The ticket fields may differ too: each
# member's mask and start weights are computed on their own.
MEMBER_FIELDS = (
    "seed",
    "order_seed",
    "split_seed",
    "frac",
    "n_train",
    "label_noise",
    "lr",
    "wd",
    "init_scale",
    "warmup",
    "init_from",
    "interventions",
    "ticket_from",
    "sparsity",
    "prune_scope",
    "mask_kind",
    "rewind",
    "reinit",
    "keep_checkpoint_at",
    "embed_from",
)


def check_ensemble(configs: list[RunConfig]) -> None:
    """Raise a ConfigError naming the first field, other than MEMBER_FIELDS, that differs, or
    `interventions` when members do not share their interventions' signature."""
    from phenolab.interventions.spec import describe_signature, signature

    first = configs[0].flat()
    first_signature = signature(first["interventions"])
    for cfg in configs[1:]:
        for name, value in cfg.flat().items():
            if name not in MEMBER_FIELDS and value != first[name]:
                raise ConfigError(
                    f"{name}: cannot differ within an ensemble ({first[name]!r} vs {value!r}); "
                    f"fields that can: {', '.join(MEMBER_FIELDS)}"
                )
        theirs = signature(cfg.train.interventions)
        if theirs != first_signature:
            raise ConfigError(
                "interventions: members of an ensemble must name the same interventions in the "
                "same order with the same integer parameters (float parameters may differ): "
                f"{describe_signature(first_signature)} vs {describe_signature(theirs)}"
            )


_SECTION_TYPES = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}


def field_specs() -> dict[str, tuple[str, dataclasses.Field]]:
    """{leaf name: (section, dataclass field)} for every config field."""
    specs: dict[str, tuple[str, dataclasses.Field]] = {}
    for section, cls in _SECTION_TYPES.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            assert f.name not in specs, f"config field {f.name} defined twice"
            f.type = hints[f.name]
            specs[f.name] = (section, f)
    return specs


def from_flat(values: dict[str, Any]) -> RunConfig:
    """Build a config from {leaf name: value} (strings are parsed); unknown names are errors."""
    specs = field_specs()
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ConfigError(
            f"unknown config field {', '.join(map(repr, unknown))} "
            f"(valid fields: {', '.join(sorted(specs))})"
        )
    sections: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for name, value in values.items():
        section, f = specs[name]
        sections[section][name] = coerce(name, f.type, value)
    return RunConfig(**{s: _SECTION_TYPES[s](**kw) for s, kw in sections.items()})


def from_json(data: dict[str, Any]) -> RunConfig:
    """Build a config from a nested {section: {field: value}} or flat {field: value} dict."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTIONS and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return from_flat(flat)


def coerce(name: str, typ: Any, value: Any) -> Any:
    """Convert `value` (maybe a CLI string) to the field's type, or raise a ConfigError."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return coerce(name, inner, value)
    if origin is tuple:
        if not isinstance(value, str | list | tuple):  # e.g. a number in a JSON config file
            raise ConfigError(f"{name}: expected a list or comma-separated values, got {value!r}")
        items = value.split(",") if isinstance(value, str) else list(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(name, args[0], v) for v in items)
        if len(items) != len(args):
            raise ConfigError(f"{name}: expected {len(args)} comma-separated values, got {value!r}")
        return tuple(coerce(name, a, v) for a, v in zip(args, items, strict=True))
    try:
        if typ is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if typ is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            if isinstance(value, str):
                return int(float(value)) if float(value).is_integer() else int(value)
            return int(value)
        if typ is float:
            return float(value)
        if typ is str:
            return str(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name}: expected {getattr(typ, '__name__', typ)}, got {value!r}"
        ) from None
    return value


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v

"""TensorBoard event folders: read with the tensorboard package's own EventAccumulator (scalars
written by torch's SummaryWriter or TensorFlow 2's tensors), and written — one folder per run,
its hyperparameters in the HParams plugin — with torch's SummaryWriter."""

from __future__ import annotations

import os
import re

from phenolab.errors import UserError
from phenolab.io.extras import require
from phenolab.io.logs import Log, map_columns

EVENTS = "events.out.tfevents"


def run_folders(path: str) -> list[str]:
    """Every folder under `path` (itself included) holding event files, sorted."""
    if os.path.isfile(path):
        return [os.path.dirname(path) or "."]
    found = [root for root, _, files in os.walk(path) if any(EVENTS in f for f in files)]
    if not found:
        raise UserError(f"{path}: no TensorBoard event files ({EVENTS}.*) in it")
    return sorted(found, key=natural)


def natural(text: str) -> list:
    """A sort key that puts width=8 before width=16."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def series_of(points) -> tuple[list[int], list[float]]:
    """(step, value) pairs in step order, the last value logged at a step kept (a resumed run
    logs some steps twice)."""
    by_step = {}
    for step, value in points:
        by_step[int(step)] = float(value)
    steps = sorted(by_step)
    return steps, [by_step[s] for s in steps]


def read_tensorboard(path: str, given: dict[str, str | None]) -> list[Log]:
    """One Log per event folder under `path`; tags mapped like columns (no step column: events
    carry their step). Hyperparameters: the HParams plugin's, else key=value in the folder
    name."""
    accumulator = require("tensorboard.backend.event_processing.event_accumulator", "tensorboard")
    from tensorboard.util import tensor_util

    logs = []
    for folder in run_folders(path):
        acc = accumulator.EventAccumulator(folder, size_guidance={"scalars": 0, "tensors": 0})
        try:
            acc.Reload()
        except Exception as exc:  # a damaged file: the reader's own error, in one line
            raise UserError(f"{folder}: unreadable event file ({exc})") from None
        tags = acc.Tags()
        points = {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags["scalars"]}
        for t in tags.get("tensors", []):  # TensorFlow 2 writes scalars as tensors
            events = acc.Tensors(t)
            if events and tensor_util.make_ndarray(events[0].tensor_proto).size == 1:
                points[t] = [
                    (e.step, tensor_util.make_ndarray(e.tensor_proto).item()) for e in events
                ]
        points = {t: p for t, p in points.items() if p}
        name = os.path.relpath(folder, path) if os.path.isdir(path) else folder
        name = os.path.basename(os.path.abspath(path)) if name == "." else name
        if not points:
            raise UserError(f"{folder}: no scalars in its event file(s) (an empty log?)")
        columns = map_columns(sorted(points), {**given, "step": None}, folder)
        columns.pop("step", None)
        curves = {role: series_of(points[tag]) for role, tag in columns.items()}
        params = _folder_params(name) | _hparams(acc)
        logs.append(Log(name, "tensorboard", folder, curves, params, columns))
    return logs


def _folder_params(name: str) -> dict[str, str]:
    """key=value pairs in a run folder's name, e.g. width=64,seed=1 or width=64_seed=1."""
    return dict(re.findall(r"([A-Za-z_][\w.-]*?)=([^,/_=]+)", name))


def _hparams(acc) -> dict[str, str]:
    """The hyperparameters the HParams plugin recorded for the run (its session start info)."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        content = acc.PluginTagToContent("hparams")
    except KeyError:
        return {}
    out = {}
    for data in content.values():
        info = plugin_data_pb2.HParamsPluginData.FromString(data).session_start_info
        for key, value in info.hparams.items():
            kind = value.WhichOneof("kind")
            if kind == "number_value":
                v = value.number_value
                out[key] = str(int(v)) if v == int(v) else repr(v)
            elif kind is not None:
                out[key] = (
                    str(getattr(value, kind)).lower()
                    if kind == "bool_value"
                    else str(getattr(value, kind))
                )
    return out

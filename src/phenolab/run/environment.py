"""Where and how a run executes: the device, the precision context, the fast path, the CPU
threads, and the record of all of it (versions, device, layout) kept with every run."""

from __future__ import annotations

import functools
import os
import platform
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

import phenolab
from phenolab.errors import ConfigError

if TYPE_CHECKING:
    from phenolab.run.cluster import RayBackend


@dataclass(frozen=True)
class Options:
    """How to run, as opposed to what to run: none of these change the run's identity."""

    checkpoint_seconds: float = 30.0  # checkpoint at most this often (wall time)
    # the fast path: on CUDA the step as a CUDA graph (train/graphs.py), on CPU the forward
    # pass and loss through torch.compile (train/fast.py)
    fast: bool = False
    # CPU threads of each training process; None: `cpu_threads(workers)`
    threads: int | None = None
    # where shards train: None, here (in this process or worker processes); a
    # `cluster.RayBackend`, as Ray tasks
    backend: RayBackend | None = None


DEFAULT_OPTIONS = Options()


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str | torch.device | None) -> torch.device:
    """A torch device from a user's string (None: CUDA when present), checked to exist here."""
    if name is None:
        return default_device()
    if isinstance(name, torch.device):
        return name
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device: unknown device {name!r} (valid: cpu, cuda, cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device: {name!r} requested but CUDA is not available")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device: {name!r} but only {torch.cuda.device_count()} GPU(s)")
    elif device.type != "cpu":
        raise ConfigError(f"device: {name!r} is not supported (valid: cpu, cuda, cuda:N)")
    return device


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. under taskset or a container's
    cpuset), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_workers(n_shards: int) -> int:
    """Processes to train `n_shards` shards on CPU: one per usable core, no more than shards."""
    return max(1, min(n_shards, usable_cores()))


def cpu_threads(workers: int) -> int:
    """Torch threads of each of `workers` training processes: ONE. These models' matrices are
    small: a second thread makes one job on an idle 2-core machine only 1.2× faster, while
    threads that outnumber the free cores spin against each other (two jobs of 2 threads on 2
    idle cores: 2.3× slower than 1 thread each; on a busy machine 13×). What else will run is
    unknown when a process starts, and one thread is also the same choice whatever the load, so
    a config's layout does not depend on it. Measured in bench/bench_threads.py (README,
    Performance); `Options(threads=N)` (`--threads N`) overrides it."""
    return 1


def precision_context(precision: str, device: torch.device):
    """The context for forward passes at `precision` (fp32: none)."""
    if precision == "bf16":
        # no cast cache: a CUDA graph replays the casts of every step
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
    if precision == "tf32":
        if device.type != "cuda":
            raise ConfigError("precision: tf32 needs a CUDA device (use fp32 or bf16 on CPU)")
        torch.backends.cuda.matmul.allow_tf32 = True  # recorded in the run's environment
        torch.backends.cudnn.allow_tf32 = True
    return nullcontext


COMPILED, GRAPHED = "torch.compile (forward + loss)", "CUDA graph (whole step)"


def fast_path(options: Options, device: torch.device) -> str | None:
    """Which fast path `options` turn on for `device` (None: the eager step)."""
    if not options.fast:
        return None
    return GRAPHED if device.type == "cuda" else COMPILED


@functools.cache
def cpu_model() -> str:
    """This machine's CPU model name, read once per process (floating-point results can differ
    between CPU models)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass(frozen=True)
class Layout:
    """How an ensemble was executed. Recorded with each member: the run id names the config,
    not its floating-point trajectory, and members of different ensemble sizes, shards or
    thread counts may round differently (an Intel Xeon gave the main job t_gen 1,300 alone and
    1,425 as member 0 of 4)."""

    members: int = 1  # members of the ensemble this run was trained in
    shard: int = 0  # which shard of the command's plan (0-based)
    shards: int = 1
    workers: int = 1  # processes training shards side by side

    def record(self, member: int, threads: int, device: torch.device) -> dict:
        out = {
            "members": self.members,
            "member": member,
            "shard": self.shard,
            "shards": self.shards,
            "workers": self.workers,
            "threads": threads,
        }
        if device.type == "cpu":
            out["cpu"] = cpu_model()
        return out


def environment(device: torch.device) -> dict:
    """Everything besides the config that can change a curve: recorded with every run."""
    env = {
        "phenolab": phenolab.__version__,
        "run_format": phenolab.RUN_FORMAT,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "dtype": "float32",
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
        env["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
        env["tf32_cudnn"] = torch.backends.cudnn.allow_tf32
    return env

"""The NVIDIA device nodes a bubblewrap sandbox needs for the GPUs its job was assigned.

bubblewrap's ``--dev /dev`` builds a fresh, minimal ``/dev``: no ``/dev/nvidia*``, so a candidate
handed ``CUDA_VISIBLE_DEVICES`` could not reach its GPU. The sandboxes bind the assigned GPUs'
nodes (``/dev/nvidia<N>`` for the assigned indices only) and the shared control nodes
(``nvidiactl``, ``nvidia-uvm``, ``nvidia-uvm-tools``, ``nvidia-modeset``) that exist.

Inside, the driver sees only the bound GPUs and CUDA numbers them from 0 (as in a container, or
under Slurm with device constraints), so the job's ``CUDA_VISIBLE_DEVICES`` becomes ``0,..,k-1``
there (:func:`sandbox_visible_devices`). An assignment by UUID (``GPU-...``) or MIG id cannot be
mapped to a node here: then every GPU node is bound and the variable is passed on unchanged,
because CUDA resolves UUIDs whatever the numbering. Assumes ``/dev/nvidia<N>`` is the GPU the
executor calls ``N`` (the minor number follows the PCI order nvidia-smi uses, the usual case).
"""

from __future__ import annotations

import re
from pathlib import Path

DEV = Path("/dev")
CONTROL_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
_GPU_NODE = re.compile(r"nvidia(\d+)")


def _assigned(visible: str) -> list[str]:
    return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]


def _by_index(assigned: list[str]) -> bool:
    return all(g.isdigit() for g in assigned)


def gpu_device_binds(visible: str, dev: Path | None = None) -> list[str]:
    """bubblewrap arguments that bind into the sandbox's ``/dev`` the device nodes of the GPUs
    in ``visible`` (a ``CUDA_VISIBLE_DEVICES`` value), found in the folder ``dev`` (default
    :data:`DEV`); nothing when no GPU is assigned or no GPU node exists."""
    dev = DEV if dev is None else dev
    assigned = _assigned(visible)
    if not assigned:
        return []
    if _by_index(assigned):
        gpus = [dev / f"nvidia{int(g)}" for g in dict.fromkeys(assigned)]
    else:
        gpus = sorted((p for p in dev.glob("nvidia*") if _GPU_NODE.fullmatch(p.name)),
                      key=lambda p: int(p.name[len("nvidia"):]))
    gpus = [p for p in gpus if p.exists()]
    if not gpus:
        return []
    args: list[str] = []
    for node in [*gpus, *(dev / name for name in CONTROL_NODES)]:
        if node.exists():
            args += ["--dev-bind", str(node), f"/dev/{node.name}"]
    return args


def sandbox_visible_devices(visible: str) -> str:
    """``CUDA_VISIBLE_DEVICES`` as the job must see it inside a sandbox built with
    :func:`gpu_device_binds`: the bound GPUs numbered from 0, or unchanged for UUIDs."""
    assigned = _assigned(visible)
    if not assigned or not _by_index(assigned):
        return visible
    return ",".join(str(i) for i in range(len(dict.fromkeys(assigned))))

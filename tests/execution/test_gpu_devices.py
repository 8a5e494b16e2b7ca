"""GPUs inside the sandbox: the assigned GPUs' device nodes (and the control nodes) are bound into
every bubblewrap sandbox, cold, warm and on a Ray worker; nothing else of /dev/nvidia* is.

Most checks use a fake device folder (regular files bound where the nodes would be), so they run on
any machine; one test runs ``nvidia-smi -L`` inside the sandboxes on a real GPU."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from airlab.execution import devices, ray_executor
from airlab.execution.devices import gpu_device_binds, sandbox_visible_devices
from airlab.execution.sandbox import (
    BubblewrapSandbox,
    RunResult,
    Sandbox,
    SandboxJob,
    bubblewrap_works,
    clean_env,
)
from airlab.execution.warm import WarmBubblewrapSandbox, _Zygote
from airlab.tasks.spec import Limits

needs_bwrap = pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap is not usable here")

LIST_DEVICES = """import json, os
print(json.dumps({"dev": sorted(n for n in os.listdir("/dev") if n.startswith("nvidia")),
                  "visible": os.environ["CUDA_VISIBLE_DEVICES"]}))
"""


def fake_dev(folder: Path, gpus: int = 4, control: tuple[str, ...] = ("nvidiactl", "nvidia-uvm")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in [*(f"nvidia{i}" for i in range(gpus)), *control, "null", "nvidia-caps-x"]:
        (folder / name).write_text(name)
    return folder


def bound(args: list[str]) -> list[str]:
    """The /dev names a bind list creates."""
    assert all(args[i] == "--dev-bind" for i in range(0, len(args), 3))
    return [args[i + 2].removeprefix("/dev/") for i in range(0, len(args), 3)]


def test_only_the_assigned_gpus_and_the_control_nodes(tmp_path: Path) -> None:
    dev = fake_dev(tmp_path / "dev")
    assert bound(gpu_device_binds("1,3", dev)) == ["nvidia1", "nvidia3", "nvidiactl", "nvidia-uvm"]
    args = gpu_device_binds("2", dev)
    assert args[:3] == ["--dev-bind", str(dev / "nvidia2"), "/dev/nvidia2"]
    # every control node that exists, none that does not
    full = fake_dev(tmp_path / "full", control=devices.CONTROL_NODES)
    assert bound(gpu_device_binds("0", full)) == ["nvidia0", *devices.CONTROL_NODES]
    assert bound(gpu_device_binds("0", fake_dev(tmp_path / "bare", control=()))) == ["nvidia0"]


def test_nothing_without_an_assigned_gpu(tmp_path: Path) -> None:
    dev = fake_dev(tmp_path / "dev")
    for visible in ("", " ", "-1", ","):
        assert gpu_device_binds(visible, dev) == []
    assert gpu_device_binds("7", dev) == []  # an assigned GPU this machine does not have
    assert gpu_device_binds("0", tmp_path / "empty") == []  # no NVIDIA device at all


def test_assignment_by_uuid_binds_every_gpu(tmp_path: Path) -> None:
    dev = fake_dev(tmp_path / "dev", gpus=12)
    names = bound(gpu_device_binds("GPU-8a1c2f3e-0000", dev))
    assert names == [*(f"nvidia{i}" for i in range(12)), "nvidiactl", "nvidia-uvm"]


def test_visible_devices_inside_are_numbered_from_zero() -> None:
    assert sandbox_visible_devices("2") == "0"
    assert sandbox_visible_devices("1,3") == "0,1"
    assert sandbox_visible_devices("") == ""
    assert sandbox_visible_devices("GPU-8a1c2f3e-0000") == "GPU-8a1c2f3e-0000"


def test_both_bubblewrap_commands_bind_the_assigned_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "DEV", fake_dev(tmp_path / "dev"))
    job = SandboxJob(code="", input_files={}, workdir=tmp_path / "ws", limits=Limits.model_validate({}),
                     log_dir=tmp_path / "logs")
    cold = BubblewrapSandbox().command(job, clean_env(job.limits, {"CUDA_VISIBLE_DEVICES": "2"}))
    assert "/dev/nvidia2" in cold and "/dev/nvidia0" not in cold and "/dev/nvidiactl" in cold
    assert cold.index("/dev/nvidia2") > cold.index("--dev")  # after the fresh /dev is built
    setenv = [i for i, arg in enumerate(cold) if arg == "--setenv" and cold[i + 1] == "CUDA_VISIBLE_DEVICES"]
    assert [cold[i + 2] for i in setenv] == ["0"]
    none = BubblewrapSandbox().command(job, clean_env(job.limits))
    assert not any("nvidia" in arg for arg in none)
    zygote = _Zygote(tmp_path / "w", 1, "bwrap", (), 60, 0.05, gpus="1,3").command()
    assert "/dev/nvidia1" in zygote and "/dev/nvidia3" in zygote and "/dev/nvidia2" not in zygote


def _listing(result: RunResult) -> dict[str, object]:
    assert result.exit_code == 0, result.stderr_tail
    found: dict[str, object] = json.loads(result.stdout_tail.strip().splitlines()[-1])
    return found


def _job(tmp_path: Path, code: str, gpus: str, argv: list[str] | None = None) -> SandboxJob:
    name = f"job-{len(list(tmp_path.glob('job-*')))}"
    return SandboxJob(code=code, input_files={}, workdir=tmp_path / name / "ws", log_dir=tmp_path / name,
                      limits=Limits.model_validate({"time_seconds": 60, "memory_mb": 1024}),
                      extra_env={"CUDA_VISIBLE_DEVICES": gpus}, argv=argv)


@pytest.fixture
def warm_bare() -> Iterator[WarmBubblewrapSandbox]:
    sandbox = WarmBubblewrapSandbox(preload=())
    yield sandbox
    sandbox.close()


def _on_ray_worker(code: str, gpus: str, monkeypatch: pytest.MonkeyPatch) -> RunResult:
    """The body of a Ray task, in this process: Ray would have set CUDA_VISIBLE_DEVICES."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", gpus)
    ray_executor._worker_sandbox.cache_clear()
    spec = {"code": code, "limits": Limits.model_validate({"time_seconds": 60, "gpus": 1}).model_dump(mode="json"),
            "extra_env": {}, "script_name": "solution.py", "argv": None, "artefacts": [], "sandbox_kind": "auto",
            "before_run": None}
    try:
        shipped = ray_executor.run_on_worker(spec, [])
    finally:
        getattr(ray_executor._worker_sandbox("auto"), "close", lambda: None)()
        ray_executor._worker_sandbox.cache_clear()
    shipped.result.stdout_tail = shipped.stdout.decode()
    return shipped.result


@needs_bwrap
def test_a_job_sees_its_gpus_only_cold_warm_and_on_ray(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      warm_bare: WarmBubblewrapSandbox) -> None:
    monkeypatch.setattr(devices, "DEV", fake_dev(tmp_path / "dev"))
    want = {"dev": ["nvidia-uvm", "nvidia2", "nvidiactl"], "visible": "0"}
    sandboxes: list[Sandbox] = [BubblewrapSandbox(), warm_bare]
    for sandbox in sandboxes:
        assert _listing(sandbox.run(_job(tmp_path, LIST_DEVICES, "2"))) == want, sandbox.name
        # the next job without a GPU sees none (a warm worker is rebuilt for it)
        assert _listing(sandbox.run(_job(tmp_path, LIST_DEVICES, ""))) == {"dev": [], "visible": ""}
    assert warm_bare.workers == 1
    on_ray = _on_ray_worker(LIST_DEVICES, "2", monkeypatch)
    assert on_ray.sandbox == "warm" and _listing(on_ray) == want


SMI = "import subprocess\nsubprocess.run(['nvidia-smi', '-L'], check=True)\n"


def _real_gpus() -> list[int]:
    return sorted(int(m.group(1)) for p in Path("/dev").glob("nvidia*") if (m := re.fullmatch(r"nvidia(\d+)", p.name)))


@needs_bwrap
@pytest.mark.skipif(not _real_gpus() or shutil.which("nvidia-smi") is None,
                    reason="no NVIDIA GPU (no /dev/nvidia<N> or no nvidia-smi) on this machine")
def test_nvidia_smi_sees_the_assigned_gpu_inside_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            warm_bare: WarmBubblewrapSandbox) -> None:
    """The real check, cold, warm and as a Ray task body: ``nvidia-smi -L`` inside the sandbox
    lists exactly the one GPU assigned. It is the only test allowed to skip: on a machine without
    an NVIDIA device there is nothing to reach."""
    gpu = str(_real_gpus()[-1])
    cold = BubblewrapSandbox().run(_job(tmp_path, "", gpu, argv=["nvidia-smi", "-L"]))
    warm = warm_bare.run(_job(tmp_path, SMI, gpu))
    on_ray = _on_ray_worker(SMI, gpu, monkeypatch)
    for result in (cold, warm, on_ray):
        assert result.exit_code == 0, (result.sandbox, result.stdout_tail, result.stderr_tail)
        lines = [ln for ln in result.stdout_tail.splitlines() if ln.startswith("GPU ")]
        assert len(lines) == 1, (result.sandbox, result.stdout_tail)
    assert os.path.exists(f"/dev/nvidia{gpu}")

"""tools/install_torch.py picks a CPU build by default (GPU or not), CUDA on request, and obeys TORCH=."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tool(monkeypatch):
    spec = importlib.util.spec_from_file_location("install_torch", ROOT / "tools" / "install_torch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.delenv("COURSEKIT_TORCH", raising=False)
    monkeypatch.setattr(mod.platform, "system", lambda: "Linux")
    monkeypatch.setattr(mod.platform, "machine", lambda: "x86_64")
    return mod


def test_no_gpu_prefers_a_local_cpu_wheel(tool, tmp_path, monkeypatch):
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    for v in ("2.3.0", "2.13.0", "2.1.0"):
        (tmp_path / f"torch-{v}+cpu-{tag}-{tag}-manylinux_2_28_x86_64.whl").write_bytes(b"")
    (tmp_path / f"torch-2.14.1-{tag}-{tag}-manylinux_2_28_x86_64.whl").write_bytes(b"")  # CUDA build
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(tool, "pip_find_links", lambda: [str(tmp_path)])
    args, why = tool.choose()
    assert args == ["torch==2.13.0+cpu"] and "CPU wheel" in why
    assert "GPU" not in why, why


def test_no_gpu_and_no_wheelhouse_uses_pytorch_cpu_index(tool, monkeypatch):
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(tool, "pip_find_links", lambda: [])
    args, _ = tool.choose()
    assert args == ["torch>=2.2", "--index-url", "https://download.pytorch.org/whl/cpu"]


def test_gpu_still_gets_a_cpu_build_unless_cuda_is_asked_for(tool, monkeypatch):
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: True)
    monkeypatch.setattr(tool, "pip_find_links", lambda: [])
    args, why = tool.choose()
    assert args == ["torch>=2.2", "--index-url", "https://download.pytorch.org/whl/cpu"], args
    assert "GPU was found" in why and "TORCH=cuda" in why, "the learner should be told how to ask for CUDA"
    monkeypatch.setenv("COURSEKIT_TORCH", "cuda")
    assert tool.choose()[0] == ["torch>=2.2"], "TORCH=cuda should give PyPI's CUDA build"


@pytest.mark.parametrize("wish, expected", [
    ("cuda", ["torch>=2.2"]),
    ("torch==2.5.1", ["torch==2.5.1"]),
])
def test_explicit_choice_wins(tool, monkeypatch, wish, expected):
    monkeypatch.setenv("COURSEKIT_TORCH", wish)
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: False)
    assert tool.choose()[0] == expected


def test_macos_uses_pypi(tool, monkeypatch):
    monkeypatch.setattr(tool.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: False)
    assert tool.choose()[0] == ["torch>=2.2"]

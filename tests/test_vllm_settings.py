"""The vLLM engine's settings without vLLM: the dtype 'auto' picks (bf16 only where the CPU has it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grpo_gym.agent.engines import vllm_settings
from grpo_gym.agent.engines.vllm_settings import VLLMSettings, cpu_has_native_bf16, engine_dtype

AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
SAPPHIRE = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    (tmp_path / "avx2").write_text(AVX2)
    (tmp_path / "spr").write_text(SAPPHIRE)
    assert not cpu_has_native_bf16(str(tmp_path / "avx2"))
    assert cpu_has_native_bf16(str(tmp_path / "spr"))
    assert not cpu_has_native_bf16(str(tmp_path / "missing"))  # unknown: the safe choice


@pytest.mark.parametrize(("native", "cpu"), [(False, "float32"), (True, "bfloat16")])
def test_auto_is_bf16_on_cuda_and_on_cpus_with_native_bf16(monkeypatch, native, cpu) -> None:
    monkeypatch.setattr(vllm_settings, "cpu_has_native_bf16", lambda: native)
    assert VLLMSettings().vllm_dtype == "auto"
    assert engine_dtype("auto", "cpu") == cpu
    assert engine_dtype("auto", "cuda") == engine_dtype("auto", "cuda:0") == "bfloat16"
    for dtype in ("float32", "bfloat16", "float16"):
        assert engine_dtype(dtype, "cpu") == engine_dtype(dtype, "cuda") == dtype

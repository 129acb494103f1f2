"""What a user sees when an optional part is not installed: no ONNX Runtime (the [cpu]/[gpu] extras are
exclusive, so a bare install has neither), both runtimes at once, ``frameswap bench`` outside a
checkout or without the [bench] extra, and C2PA signing without the [c2pa] extra. Each is simulated
in this process only (``monkeypatch``)."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from frameswap.cli import bench_cmd, main
from frameswap.cli.exit_codes import MISSING_PART
from frameswap.errors import MissingDependencyError, ProviderError, RuntimeMissingError
from frameswap.models import session

CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_onnxruntime(monkeypatch):
    """``import onnxruntime`` fails as on a machine where neither extra was installed."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)


def test_no_runtime_is_one_error_naming_both_install_commands(no_onnxruntime, tmp_path):
    with pytest.raises(RuntimeMissingError) as caught:
        session.available_providers()
    message = str(caught.value)
    assert "frameswap[cpu]" in message and "frameswap[gpu]" in message
    assert isinstance(caught.value, ProviderError) and isinstance(caught.value, ImportError)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not read: the runtime is missing first")
    with pytest.raises(RuntimeMissingError):
        session.create_session(model)


def test_no_runtime_exits_with_the_provider_code_and_the_command(no_onnxruntime, tmp_path, capsys):
    from PIL import Image

    from kit.media_builders import photo

    still = tmp_path / "still.png"
    Image.fromarray(photo((64, 48))).save(still)
    code = main(["swap", str(still), str(still), "-o", str(tmp_path / "out.png"), "--engine", "classic"])
    assert code == 12
    assert "frameswap[cpu]" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_missing_cuda_with_both_runtimes_installed_says_to_keep_one(monkeypatch):
    real = metadata.distribution

    def both(name):
        if name in ("onnxruntime", "onnxruntime-gpu"):
            return real("onnxruntime")  # any installed distribution will do: only presence is read
        return real(name)

    monkeypatch.setattr(session.metadata, "distribution", both)
    assert session.installed_runtimes() == ["onnxruntime", "onnxruntime-gpu"]
    if "cuda" in session.available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(ProviderError, match="pip uninstall -y onnxruntime onnxruntime-gpu"):
        session.resolve_providers(["cuda"])


def test_missing_cuda_with_one_runtime_does_not_mention_uninstalling():
    if "cuda" in session.available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(ProviderError) as caught:
        session.resolve_providers(["cuda"])
    assert "frameswap[gpu]" in str(caught.value) and "uninstall" not in str(caught.value)


def test_signing_without_the_c2pa_extra_exits_with_the_missing_part_code(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "c2pa", None)
    photo = CHECKOUT / "samples" / "source_astronaut.jpg"
    out = tmp_path / "out.jpg"
    code = main(["swap", str(photo), str(photo), "-o", str(out),
                 "--c2pa-cert", str(tmp_path / "cert.pem"), "--c2pa-key", str(tmp_path / "key.pem")])
    assert code == MISSING_PART  # a missing extra, not a bad option (2)
    assert 'pip install "frameswap[c2pa]"' in capsys.readouterr().err
    assert not out.exists()


def test_bench_outside_a_checkout_says_where_to_run_it(monkeypatch, tmp_path):
    # installed as a wheel (no harness beside the package) and run from a folder that is no checkout
    monkeypatch.setattr(bench_cmd, "INSTALLED_ROOT", tmp_path / "lib")
    monkeypatch.chdir(tmp_path)
    assert bench_cmd.find_checkout() is None
    with pytest.raises(MissingDependencyError, match=r"frameswap\[bench\]|checkout"):
        bench_cmd.load_harness()
    monkeypatch.chdir(CHECKOUT)  # the same wheel, run from a checkout: its harness is found
    assert bench_cmd.find_checkout() == CHECKOUT


def test_bench_without_the_extra_names_it(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the editable install's own checkout is found wherever it runs
    assert bench_cmd.find_checkout() == CHECKOUT
    monkeypatch.setitem(sys.modules, "psutil", None)
    with pytest.raises(MissingDependencyError, match=r"needs psutil: install frameswap\[bench\]"):
        bench_cmd.load_harness()


def test_bench_command_exit_code_for_a_missing_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "insightface", None)
    monkeypatch.chdir(tmp_path)
    code = main(["bench", "--out", str(tmp_path / "b"), "-q"])
    assert code == MISSING_PART
    assert "frameswap[bench]" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_bench_rejects_an_unknown_case_listing_the_real_ones(tmp_path, capsys):
    code = main(["bench", "--cases", "nope", "--out", str(tmp_path / "b"), "-q"])
    assert code == 2
    err = capsys.readouterr().err
    assert "nope" in err and "sample_gif" in err

"""The installed package, as a user outside the repository gets it (issue 20, item 1).

A wheel is built from this checkout and installed into a fresh virtual environment, then used from an
unrelated folder that has a ``flows/`` package of its own (as every Prefect project does). The
dependencies are borrowed from the test environment through a ``.pth`` line: a ``.pth`` *path* line
adds that directory to ``sys.path`` without running the ``.pth`` files inside it, so the editable
install of this checkout (itself a ``.pth`` file there) stays out and only the wheel provides
``painpoints``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        cwd=ROOT,
    )
    (built,) = out.glob("painpoints-*.whl")
    return built


def test_the_wheel_claims_one_import_name_and_carries_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"painpoints"}
    for needed in (
        "painpoints/discovery/store.py",
        "painpoints/flows/nightly.py",
        "painpoints/connectors/files.py",
        "painpoints/discovery/_sql/views/pain_points.sql",
        "painpoints/discovery/models/sentiment.npz",
        "painpoints/templates/base.html.j2",
    ):
        assert needed in names, needed
    assert any(n.startswith("painpoints/discovery/_demo/") for n in names)
    assert not any("__pycache__" in n for n in names)


def test_installed_wheel_runs_the_demo_beside_a_foreign_flows_package(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], cwd=tmp_path)

    project = tmp_path / "their_project"
    (project / "flows").mkdir(parents=True)
    (project / "flows" / "__init__.py").write_text("OWNER = 'their project'\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PREFECT_API_URL")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    _run([str(env_dir / "bin" / "painpoints"), "demo", "--db", "demo.duckdb"], cwd=project, env=env)
    check = (
        "import flows, painpoints; "
        "assert flows.OWNER == 'their project', flows.__file__; "
        f"assert painpoints.__file__.startswith({str(site)!r}), painpoints.__file__; "
        "df = painpoints.connect('demo.duckdb').pain_points(); "
        "print(type(df).__name__, len(df))"
    )
    out = _run([str(python), "-c", check], cwd=project, env=env).stdout.split()
    assert out[0] == "DataFrame" and int(out[1]) > 0

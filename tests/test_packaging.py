"""A built wheel carries the templates, macros and demo data: installed into a fresh virtual
environment, `python -m toolkit demo` runs from a folder outside the repository."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ["setup.py", "setup.cfg", "pyproject.toml", "README.md", "toolkit", "templates", "macros",
                "workbooks/demo"]


def run(args: list, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def see_dependencies_of_this_interpreter(python: Path) -> None:
    """Let a fresh venv import the dependencies installed for the interpreter running the tests (nothing is
    downloaded). Its site-packages are listed in a .pth file, not inherited with --system-site-packages:
    a venv made from inside another venv inherits the base interpreter's packages, not the outer venv's.
    A .pth file's own .pth files are not read, so the development install of toolkit stays out of sight."""
    site_dir = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=python.parent).strip())
    ours = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (site_dir / "_outer_dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")


@pytest.mark.packaging
def test_wheel_installed_in_a_fresh_venv_runs_the_demo(tmp_path):
    # build from a clean copy: setuptools' build/ folder in the checkout may hold stale modules
    src = tmp_path / "src"
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".outbox-build", "*.egg-info"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", tmp_path / "dist", src], cwd=tmp_path)   # needs setuptools and wheel: pip install -e .[test]
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for part in ("toolkit/templates/进展通报.md.j2", "toolkit/macros/customUI.xml",
                 "toolkit/demo_data/master/整改台账.xlsx", "toolkit/demo_data/config.toml"):
        assert part in names, f"{part} missing from {wheel.name}"

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    see_dependencies_of_this_interpreter(python)
    # --force-reinstall: the development install of the same version is visible through the .pth file
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index",
         "--force-reinstall", wheel], cwd=tmp_path, env=env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = run([python, "-c", "import toolkit.documents.notices as n; print(n.__file__); print(n.TEMPLATE_DIR)"],
                cwd=elsewhere, env=env).split()
    assert all(Path(p).resolve().is_relative_to(venv.resolve()) for p in found), found

    out = run([python, "-m", "toolkit", "demo", "演示"], cwd=elsewhere, env=env)
    demo = elsewhere / "演示"
    assert "台账已更新" in out
    wb = openpyxl.load_workbook(demo / "master" / "整改台账.xlsx", read_only=True)
    assert len(wb.sheetnames) > 1
    wb.close()
    notices = next((demo / "output").glob("*/通报/*"))
    assert (notices / "进展通报.md").read_text(encoding="utf-8").strip()
    assert (notices / "公开进展段落.txt").is_file()
    assert len(list((demo / "output").glob("*/回执/*.txt"))) > 20

"""Build the wheel, install it into a fresh virtualenv and run the CLI from there.

A subpackage left out of the wheel, a rule module not shipped, or linters/ and
templates/ landing as bare top-level modules all fail here.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("expandcontract-*.whl")
    return built


def test_wheel_holds_every_module_inside_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.startswith("expandcontract-")}
    assert top_level == {"expandcontract"}
    shipped = {n.removeprefix("expandcontract/linters/") for n in names if "/linters/" in n}
    for rule_file in (ROOT / "linters").glob("*.py"):
        assert rule_file.name in shipped
    assert "expandcontract/templates/__init__.py" in names


def test_installed_wheel_runs(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*pip, str(wheel)], check=True)
    # dependencies come from the test environment, without its editable install of us
    purelib = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = subprocess.check_output(
        [str(python), "-c", "import expandcontract.linters as l; print(l.__file__)"],
        text=True,
        cwd=tmp_path,
    )
    assert where.startswith(str(purelib)), where

    exe = env_dir / "bin" / "expandcontract"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert version.returncode == 0 and "expandcontract" in version.stdout

    sql = tmp_path / "m.sql"
    sql.write_text("CREATE INDEX ix ON orders (customer_id);\n")
    lint = subprocess.run(
        [str(exe), "lint", str(sql)], capture_output=True, text=True, cwd=tmp_path
    )
    assert lint.returncode == 1 and "EC301 create-index-not-concurrently" in lint.stdout

    rules = subprocess.run(
        [str(python), "-m", "expandcontract", "rules"], capture_output=True, text=True, cwd=tmp_path
    )
    assert rules.returncode == 0 and len(rules.stdout.splitlines()) >= 30

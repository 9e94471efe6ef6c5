"""Virtual environments for the peer libraries (lifetimes, pymc-marketing), created on first use.

Each peer gets its own venv under ``var/bench/venvs/<name>`` (``python3 -m venv`` + pip from PyPI), because
their pins conflict with ours (lifetimes 0.11.3 needs numpy 1.26, pandas 1.5, scipy 1.11, autograd 1.6).
``python bench/_peers.py`` creates both ahead of a benchmark run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / "var" / "bench" / "venvs"

PEERS: dict[str, list[str]] = {
    "lifetimes": ["lifetimes==0.11.3", "numpy==1.26.4", "pandas==1.5.3", "scipy==1.11.4", "autograd==1.6.2"],
    "pymc-marketing": ["pymc-marketing==0.19.2"],
}


def python_of(name: str) -> Path:
    return VENVS / name / "bin" / "python"


def ensure_venv(name: str) -> tuple[Path | None, str]:
    """Return (the venv's python, "") once the peer imports, or (None, the reason it could not be installed)."""
    python = python_of(name)
    module = name.replace("-", "_")
    marker = VENVS / name / ".installed"
    if marker.exists() and python.exists():
        return python, ""
    VENVS.mkdir(parents=True, exist_ok=True)
    log = VENVS / f"{name}.install.log"
    with log.open("w") as out:
        steps = [
            [shutil.which("python3") or "python3", "-m", "venv", "--clear", str(VENVS / name)],
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
            [str(python), "-m", "pip", "install", "--quiet", *PEERS[name]],
            [str(python), "-c", f"import {module}; print({module}.__version__)"],
        ]
        for step in steps:
            out.write("$ " + " ".join(step) + "\n")
            out.flush()
            done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                tail = log.read_text().strip().splitlines()[-1:] or ["(no output)"]
                return None, f"installing {name} failed at `{' '.join(step[:4])}`: {tail[0]} (log: {log})"
    marker.touch()
    return python, ""


if __name__ == "__main__":
    failed = False
    for peer in sys.argv[1:] or list(PEERS):
        path, reason = ensure_venv(peer)
        print(f"{peer}: {path or reason}")
        failed |= path is None
    sys.exit(1 if failed else 0)

"""The optimiser stays pure: importing it, every module of it, loads nothing of the web
service (``app``), checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import importlib, json, pkgutil, sys
import optimiser
for module in pkgutil.walk_packages(optimiser.__path__, "optimiser."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
print(json.dumps(sorted(name for name in sys.modules if name == "app" or name.startswith("app."))))
"""


def test_importing_and_running_the_optimiser_loads_no_module_of_app() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == []


def test_the_probe_would_see_app_if_it_were_loaded() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.replace("import optimiser\n", "import optimiser, app.db\n")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    assert "app.db" in json.loads(probe.stdout.strip().splitlines()[-1])

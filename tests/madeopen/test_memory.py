"""Malloc arenas of a server process (madeopen/memory.py; issue #13: idle RSS): the deploy units set the same
limit the code would, through glibc's environment variable, so the process does not load ctypes for it. And
the units' other interpreter settings for idle RSS (bench/README, "rss14", "rss16")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from madeopen.memory import SERVER_ARENAS

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy").glob("*.service"))


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_each_unit_sets_the_servers_arena_limit(unit):
    assert f"Environment=MALLOC_ARENA_MAX={SERVER_ARENAS}" in unit.read_text().splitlines()


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_each_unit_runs_python_without_docstrings_asserts_and_column_positions(unit):
    lines = unit.read_text().splitlines()
    assert "Environment=PYTHONOPTIMIZE=2" in lines
    assert "Environment=PYTHONNODEBUGRANGES=1" in lines


SCRIPT = """
import json, sys
from madeopen.memory import limit_malloc_arenas
print(json.dumps([limit_malloc_arenas(), "ctypes" in sys.modules]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
@pytest.mark.parametrize("environment, expected", [({"MALLOC_ARENA_MAX": "2"}, [False, False]), ({}, [True, True])],
                         ids=["set by the unit", "set by the process"])
def test_the_process_loads_ctypes_only_when_the_environment_has_no_limit(environment, expected):
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    env.update(environment, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == expected

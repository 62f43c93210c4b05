"""``settle_heap``, as `madeopen run` and `madeopen work` call it once started (in a process of its own: it
freezes the heap, which a test process must not)."""

from __future__ import annotations

import json
import subprocess
import sys

from madeopen.app import YOUNG_GENERATION_THRESHOLD

_PROBE = """
import gc, json
from madeopen.app import settle_heap
before = gc.get_threshold()
settle_heap()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def test_settle_heap_freezes_start_up_and_lets_the_young_generation_grow() -> None:
    # The delivery pump keeps thousands of live containers; at CPython's 700 every young collection walked
    # them again (issue #13, bench/README "fanout"). The older generations keep their thresholds.
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
    seen = json.loads(out.stdout)
    assert seen["after"] == [YOUNG_GENERATION_THRESHOLD, *seen["before"][1:]]
    assert seen["before"][0] < YOUNG_GENERATION_THRESHOLD
    assert seen["frozen"] > 0

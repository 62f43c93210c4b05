"""tests.support.servers.Node: a node that does not come up in time is stopped, not left running (its
workers would claim the rows of later tests sharing the database pool)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.servers import Node


def test_a_node_that_does_not_answer_in_time_is_stopped(tmp_path: Path) -> None:
    node = Node(data_dir=tmp_path / "node", database_url=f"sqlite+aiosqlite:///{tmp_path}/node.db")
    with pytest.raises(AssertionError):
        node.start(timeout=0.05)  # `madeopen run` needs longer than this to migrate and answer
    assert node.process is None  # stopped and forgotten

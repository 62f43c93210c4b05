"""Compiled templates kept on disk between starts (web/template_cache.py): reused when nothing changed,
never served stale when a template, an environment option or Jinja changed, and never a page's error."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import jinja2
import pytest

from web import template_cache


class CountingEnvironment(jinja2.Environment):
    """A process's template environment, counting the templates it had to compile."""

    compiles = 0

    def compile(self, *args: Any, **kwargs: Any) -> Any:
        self.compiles += 1
        return super().compile(*args, **kwargs)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    path = tmp_path / "templates"
    path.mkdir()
    (path / "page.html").write_text("<p>{{ name }}</p>")
    return path


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """Stands for the module that builds the environment (web/responses.py)."""
    path = tmp_path / "responses.py"
    path.write_text("trim_blocks=True\n")
    return path


def start(templates: Path, cache: Path, module: Path) -> CountingEnvironment:
    """What a server process does at start: a new environment, its compiled templates kept under ``cache``."""
    environment = CountingEnvironment(loader=jinja2.FileSystemLoader(templates), autoescape=True)
    assert template_cache.keep_compiled(environment, cache, module) is not None
    return environment


def test_a_restart_renders_from_the_code_compiled_before(templates: Path, module: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = start(templates, cache, module)
    assert first.get_template("page.html").render(name="<b>") == "<p>&lt;b&gt;</p>"
    assert first.compiles == 1
    [directory] = (cache / template_cache.DIRECTORY).iterdir()
    assert directory.stat().st_mode & 0o777 == 0o700  # marshalled code: only the service's user may write it
    assert len(list(directory.iterdir())) == 1

    restarted = start(templates, cache, module)
    assert restarted.get_template("page.html").render(name="<b>") == "<p>&lt;b&gt;</p>"
    assert restarted.compiles == 0


def test_a_changed_template_is_compiled_again(templates: Path, module: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    start(templates, cache, module).get_template("page.html").render(name="x")
    (templates / "page.html").write_text("<h1>{{ name }}</h1>")  # a deploy changed it

    restarted = start(templates, cache, module)
    assert restarted.get_template("page.html").render(name="x") == "<h1>x</h1>"
    assert restarted.compiles == 1


def test_a_changed_environment_starts_a_new_directory_and_drops_the_old(
    templates: Path, module: Path, tmp_path: Path
) -> None:
    """Jinja keys compiled code by the template's source only; autoescape or whitespace options change the
    code too, so a change to the module that sets them must not find the old code."""
    cache = tmp_path / "cache"
    start(templates, cache, module).get_template("page.html").render(name="x")
    [old] = (cache / template_cache.DIRECTORY).iterdir()

    module.write_text("trim_blocks=False\n")
    restarted = start(templates, cache, module)
    restarted.get_template("page.html").render(name="x")
    assert restarted.compiles == 1
    [new] = (cache / template_cache.DIRECTORY).iterdir()
    assert new != old and not old.exists()


def test_no_cache_directory_means_compiling_in_memory_as_before(
    templates: Path, module: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the directory should be")
    environment = CountingEnvironment(loader=jinja2.FileSystemLoader(templates))
    with caplog.at_level(logging.WARNING):
        assert template_cache.keep_compiled(environment, blocked, module) is None
    assert "not kept between starts" in caplog.text
    assert environment.get_template("page.html").render(name="x") == "<p>x</p>"


def test_a_failed_write_costs_a_compile_not_a_page(
    templates: Path, module: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    environment = start(templates, cache, module)
    shutil.rmtree(cache)  # e.g. an operator cleaning the data directory under a running node
    with caplog.at_level(logging.WARNING):
        assert environment.get_template("page.html").render(name="x") == "<p>x</p>"
    assert "compiled template not kept" in caplog.text


def test_without_the_environments_source_nothing_is_kept(templates: Path, tmp_path: Path) -> None:
    """An install of compiled modules only has no source to digest: no cache rather than a wrong one."""
    environment = CountingEnvironment(loader=jinja2.FileSystemLoader(templates))
    assert template_cache.keep_compiled(environment, tmp_path / "cache", tmp_path / "missing.py") is None
    assert environment.bytecode_cache is None
    assert environment.get_template("page.html").render(name="x") == "<p>x</p>"

"""A command whose module cannot be imported is never dropped silently: ``airlab rank`` then fails
with the missing module and how to install it."""

from __future__ import annotations

import subprocess
import sys

from airlab.cli import missing_module_error

# `airlab` as installed where the rank command's module needs a package that is missing
BROKEN_RANK = """
import importlib.abc, importlib.util, sys

class MissingDependency(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name == "airlab.cli.rank" else None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        raise ModuleNotFoundError("No module named 'rankdep'", name="rankdep")

sys.meta_path.insert(0, MissingDependency())
from airlab.cli import main
sys.argv = ["airlab", *sys.argv[1:]]
main()
"""


def airlab_with_rank_broken(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BROKEN_RANK, *args], capture_output=True, text=True, timeout=120)


def test_rank_fails_loudly_when_its_import_fails() -> None:
    for args in (["rank", "results.csv"], ["rank", "--help"], ["rank"]):
        done = airlab_with_rank_broken(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "'airlab rank' is unavailable" in done.stderr
        assert "the module 'rankdep' could not be imported" in done.stderr and "pip install rankdep" in done.stderr
    listed = airlab_with_rank_broken("--help")
    assert listed.returncode == 0 and "rank" in listed.stdout  # still listed, never hidden
    assert airlab_with_rank_broken("tasks").returncode == 0  # the other commands still work


def test_the_error_names_the_module_and_the_install_hint() -> None:
    error = str(missing_module_error("rank", ModuleNotFoundError("No module named 'openskill'", name="openskill")))
    assert "the module 'openskill' could not be imported" in error and "pip install openskill" in error
    own = str(missing_module_error("rank", ModuleNotFoundError("No module named 'airlab.ranking'", name="airlab.ranking")))
    assert "'airlab.ranking'" in own and "pip install --force-reinstall airlab" in own


def test_rank_is_registered_when_it_imports() -> None:
    from airlab.cli import app
    from airlab.cli.rank import rank_command

    assert any(cmd.name == "rank" and cmd.callback is rank_command for cmd in app.registered_commands)

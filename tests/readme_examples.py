"""The README's "Adding an optimizer or a surface" examples, run as written in the modules they name.

Imported by ``tests/test_extensibility.py``; also a pytest plugin (``-p readme_examples`` with
``tests`` on the path) that registers the examples before the test modules are collected, so
every registry-driven test is parametrized with the README's optimizer and surface too.
"""
import linecache
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTIMIZER, SURFACE = "HeavyBallWithFriction", "booth"


def readme_example(marker: str) -> str:
    """The README's python block in its "Adding an optimizer or a surface" section holding ``marker``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Adding an optimizer or a surface", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", section, re.S) if marker in b]
    return block


def register():
    """Define the README's optimizer, its reference and its surface where the README puts them;
    return the optimizer and surface classes (they register themselves)."""
    import reference_optimizers

    from gdviz import optimizers, surfaces
    namespace_opt, namespace_surf = dict(vars(optimizers)), dict(vars(surfaces))
    _run(f"class {OPTIMIZER}(Optimizer)", namespace_opt)
    _run("class Booth", namespace_surf)
    _run(f'REFERENCES["{OPTIMIZER}"]', vars(reference_optimizers))
    return namespace_opt[OPTIMIZER], namespace_surf["Booth"]


def _run(marker: str, namespace: dict) -> None:
    """Execute a README block in ``namespace``, its source known to ``inspect`` (show_rule reads it)."""
    source = readme_example(marker)
    filename = f"README.md ({marker})"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def pytest_configure(config):
    register()

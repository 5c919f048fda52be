"""The packaging files agree with each other and with the README.

pyproject.toml, environment.yml, ci/colab-requirements.txt, README.md's Quick start,
.ci/run and dev.py are read as text; nothing is installed here.
"""
import ast
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def runtime_requirements():
    return [Requirement(text) for text in pyproject()["project"]["dependencies"]]


def extra_requirements():
    extras = pyproject()["project"]["optional-dependencies"]
    return [Requirement(text) for text in extras["test"] + extras["lab"]]


def environment_yml():
    """{name: specifier} of environment.yml's conda dependencies, pip section and python left out.

    The file is simple on purpose ("  - name>=1.0  # comment" lines), so a few regexes read
    it and no YAML library is needed.
    """
    packages, pip_section = {}, []
    in_dependencies = in_pip = False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw.startswith(" "):
            in_dependencies = line.startswith("dependencies:")
            in_pip = False
            continue
        if not in_dependencies:
            continue
        item = re.match(r"^(\s*)-\s*(.+)$", line)
        assert item, f"unexpected line in environment.yml: {raw!r}"
        indent, text = len(item.group(1)), item.group(2).strip()
        if text == "pip:":
            in_pip = True
            continue
        if in_pip and indent > 2:
            pip_section.append(text)
            continue
        in_pip = False
        name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", text).groups()
        packages[canonicalize_name(name)] = spec.replace(" ", "")
    return packages, pip_section


def test_environment_yml_lists_the_same_packages_as_pyproject():
    packages, pip_section = environment_yml()
    assert packages.pop("python") == ">=3.10"
    packages.pop("pip", None)
    expected = {canonicalize_name(r.name): str(r.specifier)
                for r in runtime_requirements() + extra_requirements()}
    normalize = lambda spec: ",".join(sorted(spec.split(","))) if spec else ""
    assert {k: normalize(v) for k, v in packages.items()} == \
        {k: normalize(v) for k, v in expected.items()}
    assert pip_section == ["-e ."], "environment.yml should install gdviz itself with pip: -e ."


def test_python_requirement():
    assert pyproject()["project"]["requires-python"] == ">=3.10"


def test_runtime_requirements_never_force_an_upgrade():
    """Lower bounds only, so that installing into Colab upgrades nothing; ipywidgets<9 is the one cap."""
    names = set()
    for req in runtime_requirements():
        name = canonicalize_name(req.name)
        names.add(name)
        assert not req.extras and req.marker is None and req.url is None, req
        operators = sorted(spec.operator for spec in req.specifier)
        if name == "ipywidgets":
            assert operators == ["<", ">="] and "<9" in {str(s) for s in req.specifier}, req
        else:
            assert operators == [">="], f"{req}: runtime requirements take a lower bound only"
    lab = {canonicalize_name(Requirement(text).name)
           for text in pyproject()["project"]["optional-dependencies"]["lab"]}
    assert names | lab == imported_distributions(), \
        "declare exactly what gdviz imports (what only some front ends use, in the lab extra)"
    assert not names & lab


# Import name -> distribution name, for the packages whose names differ.
DISTRIBUTION_OF = {"PIL": "pillow"}


def imported_distributions():
    """The third-party distributions gdviz/**/*.py imports (absolute imports outside the stdlib)."""
    import ast
    found = set()
    for path in (ROOT / "gdviz").rglob("*.py"):     # subpackages too
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top != "gdviz":
                    found.add(canonicalize_name(DISTRIBUTION_OF.get(top, top)))
    return found


def colab_pins():
    pins = {}
    for line in (ROOT / "ci" / "colab-requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{line}: every Colab line is an exact pin"
            pins[canonicalize_name(req.name)] = spec.version
    return pins


def test_colab_pins_satisfy_the_runtime_requirements():
    pins = colab_pins()
    for name, version in {"ipywidgets": "7.7.1", "ipykernel": "6.17.1", "ipython": "7.34.0",
                          "matplotlib": "3.10.0", "numpy": "2.1.3"}.items():
        assert pins.get(name) == version, f"Colab ships {name}=={version}"
    for req in runtime_requirements():
        version = pins[canonicalize_name(req.name)]
        assert req.specifier.contains(version, prereleases=True), \
            f"gdviz requires {req} but Colab ships {req.name}=={version}"


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Quick start\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "README.md needs a '## Quick start' section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section.group(1), re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    commands = quick_start_commands()
    assert commands == ["python3 dev.py lab", "python3 dev.py test"]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert commands[1] in ci_lines, ".ci/run must run the README's second command verbatim"
    assert "set -euo pipefail" in ci_lines


def test_readme_keeps_the_sections_the_lead_fills():
    headings = re.findall(r"^## (.+)$", (ROOT / "README.md").read_text(), re.M)
    for heading in ("Quick start", "Notebooks", "Symbols", "Adding an optimizer or a surface"):
        assert heading in headings


@pytest.mark.skipif(sys.version_info < (3, 10), reason="sys.stdlib_module_names is 3.10+")
def test_dev_py_uses_the_standard_library_only():
    tree = ast.parse((ROOT / "dev.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_gitignore_keeps_environments_out():
    ignored = (ROOT / ".gitignore").read_text().split()
    for pattern in (".venv*", "__pycache__/", "*.egg-info/", ".cache/", "artifacts/"):
        assert pattern in ignored

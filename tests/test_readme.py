"""README.md agrees with the code: every notebook listed with badges pointing at the one
repository address and release tag, and the symbol table equal to the hyperparameter registry."""
import re
from pathlib import Path
from urllib.parse import quote

import gdviz
from gdviz._project import RELEASE_TAG, REPOSITORY_URL

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
OWNER_REPO = REPOSITORY_URL.removeprefix("https://github.com/")


def section(title):
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_notebook_has_a_row_with_its_colab_and_binder_badges():
    table = section("Notebooks")
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        rows = [line for line in table.splitlines() if f"(notebooks/{path.name})" in line]
        assert len(rows) == 1, f"README's notebook table needs exactly one row for {path.name}"
        row = rows[0]
        colab = f"https://colab.research.google.com/github/{OWNER_REPO}/blob/{RELEASE_TAG}/notebooks/{path.name}"
        binder = (f"https://mybinder.org/v2/gh/{OWNER_REPO}/{RELEASE_TAG}"
                  f"?labpath={quote('notebooks/' + path.name, safe='')}")
        assert colab in row, f"{path.name}: Colab badge should link {colab}"
        assert binder in row, f"{path.name}: Binder badge should link {binder}"


def test_no_link_points_at_another_repository_or_tag():
    for url in re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", README):
        assert url.startswith(f"{OWNER_REPO}/blob/{RELEASE_TAG}/"), url
    for url in re.findall(r"https://mybinder\.org/v2/gh/([^)\s?]+)", README):
        assert url == f"{OWNER_REPO}/{RELEASE_TAG}", url


def symbol_rows() -> dict[str, str]:
    """The symbol table's rows as the registries make them: keyword → the line to paste."""
    return {name: f"| {hp.symbol} | `{name}` | {hp.meaning} | {hp.range_text} | "
                  + ", ".join(n for n, cls in gdviz.OPTIMIZERS.items()
                              if any(h.name == name for h in cls.hyperparameters)) + " |"
            for name, hp in gdviz.HYPERPARAMETERS.items()}


def symbol_table_problems(readme: str = README) -> list[str]:
    """What differs between README's symbol table and the registries, each with the exact line
    to paste (a new optimizer adds its name to the "used by" column of its hyperparameters)."""
    table = readme.split("## Symbols\n", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[2].strip().strip("`"): line for line in table.splitlines()
            if line.startswith("| ") and "`" in line}
    expected = symbol_rows()
    problems = [f"README.md's symbol table has a row for `{name}`, which gdviz/hyperparams.py does not define"
                for name in rows if name not in expected]
    for name, row in expected.items():
        if rows.get(name) != row:
            where = f"replace the row for `{name}` with" if name in rows else "add the row"
            problems.append(f"README.md's symbol table: {where}\n{row}")
    return problems


def test_symbol_table_matches_the_hyperparameter_registry():
    problems = symbol_table_problems()
    assert not problems, "\n".join(problems)

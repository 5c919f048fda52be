"""What a notebook's own code asks the page to show, read from its source (no kernel).

The browser test derives its expectations from here instead of a hand-kept list: every call
to ``explore(`` / ``stability_explorer(`` shows one ``.gdviz-explorer``, every ``animate(``
one ``.gdviz-player``. For each explorer it also records the settings the call asked for
(literal arguments only), so the page can be compared with them right after "Run all".
"""
from __future__ import annotations

import ast
import inspect
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

# Function name -> what it puts on the page.
EXPLORER_CALLS = ("explore", "stability_explorer")
PLAYER_CALLS = ("animate",)


@dataclass
class ExplorerCall:
    """One explore(...)/stability_explorer(...) call, with its literal arguments."""
    function: str
    cell: int
    optimizers: list[str] | None            # None: not a literal
    surface: str | None
    settings: dict = field(default_factory=dict)   # literal keyword arguments
    unknown: list[str] = field(default_factory=list)   # arguments that are not literals

    def hyperparameters(self, optimizer: str) -> dict:
        """The requested values of `optimizer`'s hyperparameters (as explore applies them)."""
        import gdviz
        names = {hp.name for hp in gdviz.OPTIMIZERS[optimizer].hyperparameters}
        return {k: v for k, v in self.settings.items() if k in names}

    def run_settings(self) -> dict | None:
        """gdviz.run keyword arguments for the runs this explorer first shows, or None if a
        setting that changes the run is not a literal in the notebook."""
        import gdviz.explorer as ex
        defaults = {name: p.default for name, p in inspect.signature(ex.explore).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        run_keys = ("steps", "start", "noise", "seed")
        if self.optimizers is None or self.surface is None or any(
                name in run_keys or name not in defaults for name in self.unknown):
            return None
        return {key: self.settings.get(key, defaults[key]) for key in run_keys}


@dataclass
class NotebookCalls:
    explorers: list[ExplorerCall]
    players: int


def _name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        raise LookupError(ast.unparse(node)) from None


def _explorer_call(function: str, cell: int, node: ast.Call) -> ExplorerCall:
    unknown, settings = [], {}
    positional = [None, None]
    for i, arg in enumerate(node.args[:2]):
        try:
            positional[i] = _literal(arg)
        except LookupError:
            unknown.append(("optimizer", "surface")[i])
    for kw in node.keywords:
        if kw.arg is None:
            unknown.append("**")
            continue
        if kw.arg in ("optimizer", "surface"):
            try:
                positional[("optimizer", "surface").index(kw.arg)] = _literal(kw.value)
            except LookupError:
                unknown.append(kw.arg)
            continue
        try:
            settings[kw.arg] = _literal(kw.value)
        except LookupError:
            unknown.append(kw.arg)
    optimizer, surface = positional
    default_optimizer = "Momentum" if function == "stability_explorer" else "SGD"
    if optimizer is None and "optimizer" not in unknown:
        optimizer = default_optimizer
    if surface is None and "surface" not in unknown:
        surface = "elongated_bowl"
    optimizers = None if optimizer is None else ([optimizer] if isinstance(optimizer, str)
                                                 else list(optimizer))
    return ExplorerCall(function, cell, optimizers, surface, settings, unknown)


def calls_in(notebook: dict) -> NotebookCalls:
    """The explorer and player calls of a notebook (a loaded .ipynb), in page order."""
    explorers, players = [], 0
    code_index = -1
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        code_index += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        found = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Call)),
                       key=lambda n: (n.lineno, n.col_offset))
        for node in found:
            name = _name(node.func)
            if name in EXPLORER_CALLS:
                explorers.append(_explorer_call(name, index, node))
            elif name in PLAYER_CALLS:
                players += 1
    return NotebookCalls(explorers, players)


def calls_in_file(path: Path) -> NotebookCalls:
    return calls_in(json.loads(Path(path).read_text(encoding="utf-8")))


# --- the page right after "Run all" against what the calls asked for (issue 10 #10) ---------------
def _displayed_matches(text: str, wanted: float) -> bool:
    """Does the slider's displayed text (e.g. "0.959") show `wanted`, to the digits shown?"""
    try:
        shown = Decimal(text.strip())
    except InvalidOperation:
        return False
    half_unit = Decimal(5) * Decimal(10) ** (shown.as_tuple().exponent - 1)
    return abs(shown - Decimal(repr(float(wanted)))) <= half_unit


def start_value_problems(calls: NotebookCalls, states: list[dict]) -> list[str]:
    """Compare each explorer right after "Run all" with what its explore(...) call asked for:
    every requested hyperparameter as the slider displays it, and the readout's loss (or
    divergence) with gdviz.run at the requested values (the picture's number)."""
    import gdviz

    problems = []
    for index, (call, state) in enumerate(zip(calls.explorers, states)):
        where = f"explorer {index} ({call.function} in cell {call.cell})"
        if call.optimizers is None:
            continue
        several = len(call.optimizers) > 1
        for name in call.optimizers:
            cls = gdviz.OPTIMIZERS[name]
            wanted = call.hyperparameters(name)
            for hp in cls.hyperparameters:
                if hp.name not in wanted or not hp.slider[0] <= wanted[hp.name] <= hp.slider[1]:
                    continue                      # not asked for, or clipped into the slider
                label = f"{hp.symbol} · {name}" if several else hp.symbol
                shown = state["sliders"].get(label)
                if shown is None:
                    problems.append(f"{where}: no slider {label!r} (sliders: {sorted(state['sliders'])})")
                elif not _displayed_matches(shown, wanted[hp.name]):
                    problems.append(f"{where}: slider {label!r} shows {shown}, the notebook asked "
                                    f"for {hp.name}={wanted[hp.name]!r}")
            settings = call.run_settings()
            if settings is None:
                continue
            expected = gdviz.run(name, call.surface, settings["start"], settings["steps"],
                                 noise=settings["noise"], seed=settings["seed"], **wanted)
            line = next((ln for ln in state["readout"].splitlines()
                         if re.search(rf"(^|\W){re.escape(name)}(:| diverged)", ln)), None)
            if line is None:
                problems.append(f"{where}: the readout has no line for {name}: {state['readout']!r}")
            elif expected.diverged:
                if f"diverged at step {expected.diverged_at}" not in line:
                    problems.append(f"{where}: at the requested values {name} diverges at step "
                                    f"{expected.diverged_at}; the readout says {line!r}")
            else:
                found = re.search(r"loss ([-+0-9.eE]+)", line)
                loss = float(found.group(1)) if found else math.nan
                if not math.isclose(loss, expected.final_loss, rel_tol=5e-3, abs_tol=1e-300):
                    problems.append(f"{where}: at the requested values {name}'s loss is "
                                    f"{expected.final_loss:.3g}; the readout says {line!r}")
            for symbol, value in [] if line is None else re.findall(r"([^\W\d_][₀-₉]?)\s*=\s*([-+0-9.eE]+)", line):
                label = f"{symbol} · {name}" if several else symbol
                if label in state["sliders"] and not _displayed_matches(state["sliders"][label], float(value)):
                    problems.append(f"{where}: the readout says {symbol} = {value}, the slider "
                                    f"{label!r} shows {state['sliders'][label]}")
    return problems

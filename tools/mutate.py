#!/usr/bin/env python3
"""Mutation testing for gdviz's core: plant one small bug at a time, run the fast tests, count.

    python3 dev.py mutate                      # every mutant of every core module (prints JSON)
    python3 dev.py mutate --module theory      # one module (name or path)
    python3 dev.py mutate --list               # the mutants, without running anything
    python3 dev.py mutate --limit 40           # an evenly spaced sample of 40

A *mutant* changes one operator or constant inside a function of a core module
(``+``↔``-``, ``*``↔``/``, ``<``↔``<=``, ``>``↔``>=``, ``==``↔``!=``, ``and``↔``or``,
unary minus dropped, an integer ``n`` → ``n + 1``, a float ``c`` → ``2c`` (0 → 1)). Text
that only builds messages (f-strings, ``raise``) is left alone. For each mutant the module's
own fast tests (``TESTS`` below) run with ``-x``; a failing run *kills* the mutant, a passing
one lets it *survive*. A mutant that hangs past ``--timeout`` counts as killed (it would hang
the suite too).

Speed: one server process imports numpy, matplotlib and pytest once, then forks a child per
mutant that imports the mutated gdviz from a private copy of the repository (the working tree
is never written to), with pytest's plugin autoloading off (the core's tests need none).
About 0.5-2 s per mutant on a quiet machine.

The summary (one JSON object on stdout) gives the kill rate, every survivor not explained in
``EQUIVALENT`` (a behaviour-preserving mutant, with the reason), and the explained ones.
Not part of ``dev.py test``: run it by hand after changing the core or its tests.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Core module -> the fast tests that hold it to its contract.
# (tests/test_mutant_killers.py holds the tests written for survivors of this script.)
TESTS = {
    "gdviz/optimizers.py": ["tests/test_optimizers.py", "tests/test_validation.py",
                            "tests/test_effective_lr.py", "tests/test_trajectory.py",
                            "tests/test_mutant_killers.py", "tests/test_extensibility.py"],
    "gdviz/hyperparams.py": ["tests/test_validation.py", "tests/test_optimizers.py"],
    "gdviz/surfaces.py": ["tests/test_surfaces.py", "tests/test_validation.py"],
    "gdviz/theory.py": ["tests/test_theory.py", "tests/test_rates.py", "tests/test_mutant_killers.py"],
    "gdviz/trajectory.py": ["tests/test_trajectory.py", "tests/test_validation.py",
                            "tests/test_schedules.py", "tests/test_mutant_killers.py"],
    "gdviz/schedules.py": ["tests/test_schedules.py", "tests/test_trajectory.py"],
}
for _tests in TESTS.values():          # the tests written for this script's survivors
    if "tests/test_mutant_killers.py" not in _tests:
        _tests.append("tests/test_mutant_killers.py")
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-m", "not slow and not browser and not colab",
               "--no-header", "-o", "addopts="]

DIVERGED_AT = ("diverged_at holds −1 or the step k >= 1 where a configuration diverged, so "
               "'< 0', '<= 0' and '< 1' pick the same configurations")
# Survivors that change nothing a caller can observe: (module, a piece of the mutated line,
# the change, why). Matched by the line's text, not its number, so edits elsewhere in the
# module keep them; where the line has the same token twice, «» marks the mutated one.
# Every other survivor is a missing test.
EQUIVALENT = [
    ("optimizers", "if self._eps_is_zero() and not np.isfinite(new_theta[key]).all():", "and->or",
     "with ε > 0 a step from finite θ and g is never NaN (an overflowing √v makes the step 0, "
     "not 0/0), so taking the ε → 0 limit where the new θ is not finite changes no coordinate"),
    ("schedules", "if isinstance(t, (bool, np.bool_, str, bytes)) or t is None:", "or->and",
     "the dtype check right below refuses the same inputs (bool, str, bytes, None are not of "
     "kind 'i'/'u') with the same TypeError and message"),
    ("hyperparams", "if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:", "or->and",
     "None is then refused by the dtype check below (an object array) with a TypeError that "
     "names it too: 'must be a number or an array of numbers, got None'"),
    ("hyperparams", 'return "inf" if x > 0 else "-inf"', ">->>=",
     "only called with x = ±inf (math.isinf(x) above): any threshold between them gives the same"),
    ("hyperparams", 'return "inf" if x > 0 else "-inf"', "0->1",
     "only called with x = ±inf (math.isinf(x) above): any threshold between them gives the same"),
    ("trajectory", "step = opt.update if k == 1 else opt._apply", "==->!=",
     "update() is the input check then _apply(); run builds params and grads itself, so which "
     "steps go through the check changes no result (it only costs time)"),
    ("trajectory", "step = opt.update if k == 1 else opt._apply", "1->2",
     "update() is the input check then _apply(); run builds params and grads itself, so which "
     "steps go through the check changes no result (it only costs time)"),
    ("trajectory", "diverged_at[bad & (diverged_at «<» 0)] = k", "<-><=", "DIVERGED"),
    ("trajectory", "diverged_at[bad & (diverged_at < «0»)] = k", "0->1", "DIVERGED"),
    ("trajectory", "& (diverged_at «<» 0)] = k", "<-><=", "DIVERGED"),
    ("trajectory", "& (diverged_at < «0»)] = k", "0->1", "DIVERGED"),
    ("optimizers", "on = rho_t > 5", ">->>=",
     "RAdam: differs only where ρ_t is exactly 5.0 (torch also uses > 5); ρ_1 = 1 always, and "
     "no β₂ on a 20,000-point grid over (0, 1) gives ρ_t == 5.0 for t = 2 … 200"),
    ("optimizers", "np.where(on, rho_t, 6.0), np.where(on, rho_inf, 6.0)", "6.0->12.0",
     "RAdam: placeholders where the rectification is off; np.where(on, …, 0.0) discards them "
     "(any value > 4 keeps the root real)"),
    ("trajectory", "diverged = diverged_at >= 0", ">=->>", "DIVERGED"),
    ("trajectory", "diverged = diverged_at >= 0", "0->1", "DIVERGED"),
    ("trajectory", 'np.stack([params["x"], params["y"]], axis=«-»1)', "-->",
     "the stacked arrays are 1-D, so their result is 2-D and axis 1 is axis -1"),
    ("trajectory", ".reshape(-«1», 2)", "1->2",
     "numpy's reshape reads any negative size as 'the rest', so (-2, 2) is (-1, 2)"),
    ("trajectory", "schedule.factor(np.arange(1, steps + «1»))", "1->2",
     "one more factor at the end, for a step that is never taken: factors[k - 1] reads k = 1 … steps only"),
]
EQUIVALENT = [(m, p, c, DIVERGED_AT if why == "DIVERGED" else why) for m, p, c, why in EQUIVALENT]


@dataclass
class Mutant:
    module: str          # path relative to ROOT
    line: int
    col: int
    original: str
    replacement: str
    start: int           # offsets into the module's source
    end: int

    text: str = ""       # the mutated line, as written

    @property
    def id(self) -> str:
        return f"{Path(self.module).stem}:{self.line}:{self.col}:{self.original}->{self.replacement}"

    def why_equivalent(self) -> str | None:
        change = f"{self.original}->{self.replacement}"
        for module, piece, mutation, why in EQUIVALENT:
            plain = piece.replace("«", "").replace("»", "")
            if module != Path(self.module).stem or mutation != change or plain not in self.text:
                continue
            if "«" not in piece or self.text.find(plain) + piece.index("«") == self.col:
                return why
        return None

    def apply(self, source: str) -> str:
        return source[:self.start] + self.replacement + source[self.end:]


_SWAPS = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"), ast.Div: ("/", "*"),
          ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">"),
          ast.Eq: ("==", "!="), ast.NotEq: ("!=", "==")}
_MESSAGE_CALLS = {"ValueError", "TypeError", "KeyError", "RuntimeError", "print", "warn"}


def _offsets(source: str) -> list[int]:
    starts, total = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(total)
        total += len(line)
    starts.append(total)
    return starts


def _skipped_ranges(tree: ast.AST) -> list[ast.AST]:
    """Nodes whose insides only build messages or text."""
    skip = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Raise, ast.JoinedStr, ast.Assert)):
            skip.append(node)
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in _MESSAGE_CALLS:
                skip.append(node)
        elif isinstance(node, ast.FunctionDef) and node.name in ("__repr__", "__str__"):
            skip.append(node)
    return skip


def _inside(node, ranges) -> bool:
    for outer in ranges:
        if (outer.lineno, outer.col_offset) <= (node.lineno, node.col_offset) and \
                (node.end_lineno, node.end_col_offset) <= (outer.end_lineno, outer.end_col_offset):
            return True
    return False


def _operator_between(source, starts, left, right, token):
    """Offsets of `token` in the source between the end of `left` and the start of `right`."""
    a = starts[left.end_lineno - 1] + left.end_col_offset
    b = starts[right.lineno - 1] + right.col_offset
    gap = source[a:b]
    stripped = gap.replace("(", " ").replace(")", " ")
    i = stripped.find(token)
    # "<" must not be the start of "<=" (and so on)
    while i >= 0 and (stripped[i + len(token):i + len(token) + 1] in ("=", "*", "/")
                      or (i > 0 and stripped[i - 1] in "<>=!*/")):
        i = stripped.find(token, i + 1)
    return (a + i, a + i + len(token)) if i >= 0 else None


def mutants_of(module: str) -> list[Mutant]:
    source = (ROOT / module).read_text(encoding="utf-8")
    tree = ast.parse(source)
    starts = _offsets(source)
    skip = _skipped_ranges(tree)
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.Lambda))]
    found = []

    def add(node, start, end, original, replacement):
        line = source.count("\n", 0, start) + 1
        col = start - starts[line - 1]
        found.append(Mutant(module, line, col, original, replacement, start, end,
                            source.splitlines()[line - 1]))

    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or not _inside(node, functions) or _inside(node, skip):
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in _SWAPS:
            old, new = _SWAPS[type(node.op)]
            where = _operator_between(source, starts, node.left, node.right, old)
            if where:
                add(node, *where, old, new)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _SWAPS:
            old, new = _SWAPS[type(node.ops[0])]
            where = _operator_between(source, starts, node.left, node.comparators[0], old)
            if where:
                add(node, *where, old, new)
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            where = _operator_between(source, starts, node.values[0], node.values[1], f" {old} ")
            if where:
                add(node, where[0] + 1, where[1] - 1, old, new)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            start = starts[node.lineno - 1] + node.col_offset
            if source[start] == "-":
                add(node, start, start + 1, "-", "")
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            start = starts[node.lineno - 1] + node.col_offset
            end = starts[node.end_lineno - 1] + node.end_col_offset
            text = source[start:end]
            if isinstance(node.value, int):
                new = str(node.value + 1)
            else:
                new = "1.0" if node.value == 0 else repr(node.value * 2)
            add(node, start, end, text, new)
    found.sort(key=lambda m: m.start)
    return found


# --- running ----------------------------------------------------------------------------------------
def _copy_repository(target: Path) -> None:
    for name in ("gdviz", "tests", "benchmarks", "tools", "notebooks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns(
                "__pycache__", ".ipynb_checkpoints", "browser"))
    for name in ("pyproject.toml", "README.md", "dev.py"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, target / name)


def _run_in_child(copy: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    """Fork; the child runs pytest on `tests` in `copy` (importing gdviz from there)."""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:                                   # the child
        code = 3
        try:
            os.chdir(copy)
            sys.path.insert(0, str(copy))
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"   # nbval, playwright, ...: 2 s each
            import pytest
            code = int(pytest.main([*PYTEST_ARGS, *tests]))
        finally:
            os._exit(code)
    deadline = started + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            seconds = time.monotonic() - started
            if code == 0:
                return "survived", seconds
            if code == 1:
                return "killed", seconds
            return f"killed (pytest exit {code})", seconds
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "killed (timeout)", time.monotonic() - started
        time.sleep(0.02)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", default=[],
                        help="a core module to mutate (name or path; repeatable; default: all)")
    parser.add_argument("--limit", type=int, default=0, help="run an evenly spaced sample of N mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", action="append", default=[],
                        help="run only this mutant id (as --list prints it; repeatable)")
    parser.add_argument("--timeout", type=float, default=0,
                        help="seconds per mutant (default: 4x the unmutated run, at least 30)")
    args = parser.parse_args(argv)

    modules = list(TESTS)
    if args.module:
        wanted = {m if m.endswith(".py") else f"gdviz/{m}.py" for m in args.module}
        unknown = wanted - set(TESTS)
        if unknown:
            parser.error(f"not a core module: {sorted(unknown)} (choose from {', '.join(TESTS)})")
        modules = [m for m in modules if m in wanted]
    mutants = [m for module in modules for m in mutants_of(module)]
    if args.only:
        mutants = [m for m in mutants if m.id in set(args.only)]
        missing = set(args.only) - {m.id for m in mutants}
        if missing:
            parser.error(f"no such mutant (the source moved?): {sorted(missing)}")
    if args.limit and args.limit < len(mutants):
        step = len(mutants) / args.limit
        mutants = [mutants[int(i * step)] for i in range(args.limit)]
    modules = [module for module in modules if any(m.module == module for m in mutants)]
    if args.list:
        for m in mutants:
            print(m.id)
        print(f"{len(mutants)} mutants", file=sys.stderr)
        return 0

    # Imported once here, before any fork (gdviz itself is not: each child imports its copy).
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401

    results, started = [], time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gdviz-mutate-") as tmp:
        copy = Path(tmp)
        _copy_repository(copy)
        baseline = {}
        for module in modules:
            tests = [t for t in TESTS[module] if (copy / t).exists()]
            outcome, seconds = _run_in_child(copy, tests, timeout=600)
            if outcome != "survived":
                print(json.dumps({"error": f"the unmutated tests fail for {module}: {outcome}"}))
                return 1
            baseline[module] = (tests, seconds)
        for n, m in enumerate(mutants, 1):
            tests, base_seconds = baseline[m.module]
            target = copy / m.module
            original = target.read_text(encoding="utf-8")
            target.write_text(m.apply(original), encoding="utf-8")
            try:      # one test file at a time: most mutants die in the first, unrun files cost nothing
                outcome, seconds = "survived", 0.0
                for test in tests:
                    outcome, taken = _run_in_child(copy, [test], args.timeout or max(30.0, 4 * base_seconds))
                    seconds += taken
                    if outcome != "survived":
                        break
            finally:
                target.write_text(original, encoding="utf-8")
            results.append({**asdict(m), "id": m.id, "outcome": outcome, "seconds": round(seconds, 2),
                            "why_equivalent": m.why_equivalent()})
            print(f"[mutate] {n}/{len(mutants)} {outcome:9s} {m.id}", file=sys.stderr, flush=True)

    killed = [r for r in results if r["outcome"].startswith("killed")]
    survivors = [r for r in results if r["outcome"] == "survived"]
    explained = [r for r in survivors if r["why_equivalent"]]
    unexplained = [r for r in survivors if not r["why_equivalent"]]
    summary = {
        "mutants": len(results),
        "killed": len(killed),
        "survived": len(survivors),
        "kill_rate": round(len(killed) / len(results), 4) if results else None,
        "kill_rate_excluding_equivalent": (round(len(killed) / (len(results) - len(explained)), 4)
                                           if len(results) > len(explained) else None),
        "survivors": [{"id": r["id"], "line": r["text"].strip()} for r in unexplained],
        "equivalent": [{"id": r["id"], "why": r["why_equivalent"]} for r in explained],
        "modules": {module: {"mutants": sum(r["module"] == module for r in results),
                             "killed": sum(r["module"] == module and r in killed for r in results)}
                    for module in modules},
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The codebase's own rules: no import cycles, no module over 400 lines, each setting defined once
(the retrain flow, the deployments, the command line and the README agree with ``Settings``)."""

from __future__ import annotations

import ast
import subprocess
import sys
import typing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sentiment", "tasks", "flows", "sql")
MAX_LINES = 400


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            name = ".".join(file.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = file
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> project modules it imports, at the top or inside functions alike."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, file in modules.items():
        package = name if file.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                resolved = resolve(target)
                # A module importing its own package's __init__ runs after it: not an edge.
                if resolved and resolved != name and not name.startswith(resolved + "."):
                    graph[name].add(resolved)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_the_projects_modules():
    found = cycles(import_graph(project_modules()))
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_module_is_longer_than_400_lines():
    files = [f for package in (*PACKAGES, "tests", "benchmarks", "scripts") for f in (ROOT / package).rglob("*.py")]
    too_long = {str(f.relative_to(ROOT)): n for f in files if (n := len(f.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def _bounds(metadata) -> dict[str, object]:
    """ge/gt/le/lt constraints from a field's or an Annotated type's metadata."""
    found: dict[str, object] = {}
    for item in metadata:
        for key in ("ge", "gt", "le", "lt"):
            if getattr(item, key, None) is not None:
                found[key] = getattr(item, key)
        found.update(_bounds(getattr(item, "metadata", ())))
    return found


def test_retrain_parameters_match_the_settings_they_override():
    from flows.retrain import PARAMETERS, retrain
    from sentiment.settings import Settings, setting_help

    hints = typing.get_type_hints(retrain.fn, include_extras=True)
    assert set(PARAMETERS) == set(hints) - {"return"}, "every retrain parameter overrides one setting"
    for name, setting in PARAMETERS.items():
        field = Settings.model_fields[setting]
        hint = hints[name]
        metadata = hint.__metadata__ if typing.get_origin(hint) is typing.Annotated else ()
        base = typing.get_args(hint)[0] if metadata else hint
        expected = str if setting == "labels" else field.annotation  # labels travel as "a,b,c"
        assert base == expected | None, f"retrain({name}): {base} but the setting {setting} is {expected}"
        assert _bounds(metadata) == _bounds(field.metadata), f"retrain({name}): bounds differ from the setting {setting}'s"
        assert setting_help(setting) in retrain.fn.__doc__  # the UI's help is the setting's


def test_deployment_defaults_and_train_options_come_from_the_settings():
    import typer.main

    from flows.cli.main import app
    from flows.deployments import default_parameters
    from flows.retrain import PARAMETERS
    from sentiment.settings import Settings, setting_help

    settings = Settings(epochs=7, rebalance="undersample", labels="negative,positive")
    defaults = default_parameters("retrain", settings)
    assert set(defaults) == set(PARAMETERS)
    assert defaults["epochs"] == 7 and defaults["rebalance"] == "undersample" and defaults["labels"] == "negative,positive"

    command = typer.main.get_command(app).commands["train"]
    options = {p.name: p for p in command.params if p.name != "json_out"}
    assert set(options) <= set(PARAMETERS), f"train options without a retrain parameter: {set(options) - set(PARAMETERS)}"
    for name, option in options.items():
        assert option.help == setting_help(PARAMETERS[name]), f"tweetsent train --{name}: help is not the setting's"


def test_the_settings_table_is_generated_from_the_settings():
    proc = subprocess.run([sys.executable, "scripts/readme_settings.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_readme_stays_a_runbook():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= 250, f"README.md has {lines} lines: details go to docs/ (the README is a runbook of at most 250)"


@pytest.mark.parametrize("kind", ["Rebalance", "Precision", "Quantize", "Device"])
def test_each_choice_list_is_written_once(kind):
    """The choice values appear in code only in their Literal (docs and tests aside)."""
    from sentiment import settings

    values = typing.get_args(getattr(settings, kind))
    listing = ", ".join(f'"{v}"' for v in values)
    holders = [str(f.relative_to(ROOT)) for f in project_modules().values() if listing in f.read_text(encoding="utf-8")]
    assert holders == ["sentiment/settings.py"], f"{kind} choices written in {holders}"

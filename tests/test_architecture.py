"""The package's layers point down, no module imports another's private names, and every option is
declared once (schema.py) with what is derived from it agreeing field by field."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from batched_bandit import schema
from batched_bandit.state import Hyper, Rule

PACKAGE = Path(__file__).resolve().parents[1] / "batched_bandit"
# core <- engines <- run <- study <- figures <- cli: a module imports its own layer or those below
LAYERS = {"core": 0, "engines": 1, "run": 2, "study": 3, "figures": 4, "cli": 5}
RUN_LAYER = {"run", "result", "frames", "display"}
# the one import up a layer: a study's notebook display (_repr_html_) has the figures layer draw its
# figure, imported inside the call (importing the study layer still loads nothing above it)
UPWARD = {("study.display", "figures"), ("study.display", "figures.inline")}


def layer(module: str) -> int:
    """The layer of a module named relative to the package ("study.sweep", "run")."""
    head = module.split(".")[0]
    if head in ("engines", "study", "figures", "cli"):
        return LAYERS[head]
    return LAYERS["run"] if head in RUN_LAYER else LAYERS["core"]


def imports():
    """(importing module, imported module, names) for every package-internal import."""
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                for alias in node.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    is_module = (PACKAGE / Path(*sub.split("."))).with_suffix(".py").exists() or (
                        PACKAGE / Path(*sub.split("."))
                    ).is_dir()
                    yield name, sub if is_module else target or "__init__", alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("batched_bandit"):
                yield name, node.module.removeprefix("batched_bandit").lstrip(".") or "__init__", ""


def test_layers_point_down():
    upward = [
        f"{source} imports {target}"
        for source, target, _ in imports()
        if source != "__init__"
        and target != "__init__"
        and layer(target) > layer(source)
        and (source, target) not in UPWARD
    ]
    assert not upward, upward


def test_no_module_imports_a_private_name_of_another():
    private = [f"{source} imports {target}.{name}" for source, target, name in imports()
               if name.startswith("_") and not name.startswith("__")]  # fmt: skip
    assert not private, private


@pytest.mark.parametrize(
    "module, absent",
    [
        ("batched_bandit.study", "batched_bandit.figures"),
        ("batched_bandit.meanfield", "batched_bandit.engines.cpu_engine"),
        ("batched_bandit.meanfield", "batched_bandit.engines.cpu_build"),
        ("batched_bandit.run", "batched_bandit.study"),
        ("batched_bandit.schema", "torch"),
        ("batched_bandit.study", "pandas"),  # an optional extra, imported by to_pandas() only
    ],
)
def test_importing_a_layer_loads_nothing_above_it(module, absent):
    code = f"import sys, {module}; assert {absent!r} not in sys.modules, sorted(sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]


def test_hyper_and_rule_are_the_schema_rows_and_choices():
    """state.Hyper's fields are schema.ROWS in order; Rule's are schema.RULE_FIELDS, defaulting to
    the seed's rule."""
    assert tuple(Hyper.__dataclass_fields__) == schema.ROWS
    assert tuple(Rule.__dataclass_fields__) == schema.RULE_FIELDS
    assert Rule().is_seed and not Rule(optimizer="adam").is_seed
    per_bandit = [o.name for o in schema.OPTIONS.values() if o.kind in ("real", "pair")]
    assert all(schema.OPTIONS[name].rows for name in per_bandit)  # every per-bandit number reaches the engines


def test_the_type_checkers_rule_and_hyper_are_the_runtime_ones():
    """state.py declares Rule and Hyper for type checkers (under TYPE_CHECKING): the same fields, in
    order, with the same defaults, as the classes made from schema.py."""
    import dataclasses

    tree = ast.parse((PACKAGE / "state.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    declared = {c.name: c for c in block.body if isinstance(c, ast.ClassDef)}
    for cls in (Rule, Hyper):
        fields = [n for n in declared[cls.__name__].body if isinstance(n, ast.AnnAssign)]
        assert [f.target.id for f in fields] == [f.name for f in dataclasses.fields(cls)], cls.__name__
        for f, runtime in zip(fields, dataclasses.fields(cls)):
            default = dataclasses.MISSING if f.value is None else ast.literal_eval(f.value)
            assert default == runtime.default, (cls.__name__, runtime.name)


def test_every_option_has_its_words_and_a_sane_default():
    for option in schema.OPTIONS.values():
        assert option.help and option.short and option.label, option.name
        if option.kind == "choice":
            assert option.default in option.choices, option.name
        if option.kind == "real" and option.default is not None:
            low_ok = option.default > option.low if option.low_open else option.default >= option.low
            high_ok = option.default < option.high if option.high_open else option.default <= option.high
            assert low_ok and high_ok, option.name
        for on, allowed in option.applies.items():
            if on != "model":
                assert set(allowed) <= set(schema.OPTIONS[on].choices), option.name


def test_an_unknown_choice_raises_everywhere():
    """Dispatch on an enumerated name never falls through to another choice."""
    import torch

    from batched_bandit import optimizers
    from batched_bandit.engines import cpu_build, triton_kernel
    from batched_bandit.reference import make_optimizer

    rule = Rule(optimizer="adamw")
    weights = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        optimizers.initial_state(rule, weights)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        optimizers.step_bound(rule, None, None)
    with pytest.raises(ValueError, match="unknown baseline 'median'"):
        optimizers.update_baseline("median", weights, weights, 0, weights, weights)
    with pytest.raises(ValueError, match="optimizer must be one of sgd, adam, rmsprop, got 'adamw'"):
        cpu_build.header(rule)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        triton_kernel.rule_constants(rule)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        make_optimizer([weights.requires_grad_()], "adamw")

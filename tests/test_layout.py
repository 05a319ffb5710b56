"""The package's layers import one way only (docs/user_guide/architecture.rst)."""

import ast
import pathlib
import subprocess
import sys

import pytest

import skgkedm

PACKAGE = pathlib.Path(skgkedm.__file__).parent
# What each folder may import from inside the package.
ALLOWED = {
    "utils": {"utils"},
    "data": {"data", "utils"},
    "nn": {"nn", "utils"},
    "loader": {"loader", "nn", "data", "utils"},
    "datasets": {"datasets", "data", "utils"},
}


def package_imports(path):
    """Yield (absolute module, names) for each import of skgkedm inside ``path``."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("skgkedm"):
                yield target, [alias.name for alias in node.names]


def folder(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else "top"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_imports_run_down_and_take_no_private_helper(path):
    own = folder(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    for target, names in package_imports(path):
        if own != "top":
            assert folder(target) in ALLOWED[own], f"{path} imports {target} (up a layer)"
        assert target != "skgkedm", f"{path} imports the package itself"
        private = [name for name in names if name.startswith("_") and name != "__version__"]
        if target.rsplit(".", 1)[-1].startswith("_"):  # a module, not a subpackage
            assert not private, f"{path} imports private helpers {private} from {target}"


def test_import_loads_no_heavy_dependency_until_a_name_is_used():
    code = (
        "import sys, skgkedm; heavy = {'torch', 'sklearn', 'torch_geometric', 'networkx'};"
        "print(sorted(heavy & set(sys.modules)));"
        "skgkedm.GKEDMClassifier; print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stderr


def test_every_public_name_resolves():
    assert sorted(skgkedm.__all__) == sorted([*skgkedm._PUBLIC, "__version__"])
    for name in skgkedm.__all__:
        assert getattr(skgkedm, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        skgkedm.missing  # noqa: B018

"""Sphinx configuration of the skgkedm documentation.

Build from the repository root, warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery executes ``examples/plot_*.py``. No network is used at build time (no
intersphinx inventories), so links to other projects' documentation are plain URLs.
"""

import re
import shutil
import sys
from pathlib import Path

from sphinx.pycode import ModuleAnalyzer

import skgkedm

DOCS = Path(__file__).resolve().parent
EXAMPLES = DOCS.parent / "examples"
sys.path.insert(0, str(DOCS / "sphinxext"))

project = "skgkedm"
author = "the skgkedm developers"
copyright = "the skgkedm developers"
release = skgkedm.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

# Figures drawn at build time from committed benchmark results (docs/sphinxext/regime_plots.py).
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "_gallery_src", "sphinxext", "**/.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"

# API pages: one generated page per public name (see api.rst and _templates/).
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False


def skip_member(app, what, name, obj, skip, options):
    """Leave out members the API pages should not list.

    - NamedTuple fields ("Alias for field number 0"): the class docstring's Attributes
      section documents them.
    - scikit-learn's metadata-routing methods (``set_score_request``,
      ``get_metadata_routing``, ...): their docstrings link into scikit-learn's own
      glossary and user guide, which this build cannot resolve without intersphinx.
    """
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    if name == "get_metadata_routing" or re.fullmatch(r"set_\w+_request", name):
        return True
    return None


# The gallery: sphinx-gallery wants a header file beside the scripts, and examples/
# holds only the scripts, so the build stages them with the header from sphinxext/.
GALLERY_SOURCE = DOCS / "_gallery_src"


def stage_gallery_source():
    GALLERY_SOURCE.mkdir(exist_ok=True)
    shutil.copy2(DOCS / "sphinxext" / "GALLERY_HEADER.rst", GALLERY_SOURCE)
    scripts = {script.name: script for script in EXAMPLES.glob("plot_*.py")}
    for staged in GALLERY_SOURCE.glob("*.py"):
        if staged.name not in scripts:
            staged.unlink()
    for name, script in scripts.items():
        staged = GALLERY_SOURCE / name
        if not staged.exists() or staged.read_bytes() != script.read_bytes():
            shutil.copy2(script, staged)


stage_gallery_source()

sphinx_gallery_conf = {
    "examples_dirs": "_gallery_src",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skgkedm",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skgkedm": None},
    "show_memory": False,
    "min_reported_time": 0,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skgkedm {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = True


# scikit-learn's docstrings, inherited by the estimators (``score``, ``get_params``,
# ...), refer to scikit-learn's glossary and user guide. Without intersphinx those
# references cannot resolve, so they are rendered as plain text.
SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^`>]*>)?`")


def unlink_sklearn_references(app, what, name, obj, options, lines):
    if (getattr(obj, "__module__", None) or "").startswith("sklearn."):
        lines[:] = [SKLEARN_ROLE.sub(r"\1", line) for line in lines]


def document_constant(app, what, name, obj, options, lines):
    """Give a re-exported constant the docstring written under its assignment.

    autodoc reads a constant's docstring in the module that documents it (``skgkedm``),
    but the package assigns its constants in private modules and imports them; without
    this, ``skgkedm.PAPER_GKEDM`` would show the docstring of its type.
    """
    if what != "data":
        return
    package, _, attribute = name.rpartition(".")
    private = [
        module_name
        for module_name, module in list(sys.modules.items())
        if module_name.startswith(f"{package}._") and getattr(module, attribute, None) is obj
    ]
    for module_name in private:
        docstring = ModuleAnalyzer.for_module(module_name).find_attr_docs().get(("", attribute))
        if docstring:
            lines[:] = list(docstring)
            return


def setup(app):
    app.connect("autodoc-skip-member", skip_member)
    app.connect("autodoc-process-docstring", document_constant, priority=300)
    app.connect("autodoc-process-docstring", unlink_sklearn_references, priority=400)

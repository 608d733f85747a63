"""Sphinx configuration of batched_bandit's documentation site (PyData theme, MyST-NB).

Build, warnings as errors: ``sphinx-build -W -b html docs docs/_build/html``. Nothing is fetched from
the network at build time (no intersphinx, no remote images); the tutorials execute at build time.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import batched_bandit  # noqa: E402

project = "batched_bandit"
author = "batched_bandit contributors"
release = version = batched_bandit.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax", "sphinx.ext.napoleon"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# The tutorials run at every clean build (cached in _build between builds); an error fails the build.
nb_execution_mode = "cache"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

autodoc_default_options = {"members": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autosummary_generate = False

html_theme = "pydata_sphinx_theme"
html_title = f"batched_bandit {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": {"tutorials/*": []},  # the notebooks get the width
}
html_static_path: list[str] = []

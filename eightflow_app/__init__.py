"""eightflow's application: the repository's ``flows/``, ``tasks/``, ``deployments/`` and
``prompts/`` folders, installed as ``eightflow_app.flows``, ``eightflow_app.tasks``,
``eightflow_app.deployments`` and ``eightflow_app.prompts``.

``setup.py`` maps those top-level folders under this package, so a wheel (or an editable
install) claims no generic top-level names in site-packages. In a source checkout on
``sys.path`` without an install, the same names resolve to the folders beside this one.
"""

from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CHECKOUT = _HERE.parent
if not (_HERE / "flows").is_dir() and (_CHECKOUT / "flows" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))

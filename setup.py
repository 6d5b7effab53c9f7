"""Package layout (everything else is in pyproject.toml).

The repository keeps its top-level ``flows/``, ``tasks/``, ``deployments/`` and ``prompts/``
folders; they install under ``eightflow_app`` so the distribution claims no generic
top-level names. Packages are found here, not listed, so a new subpackage is never left out.
"""

from setuptools import find_packages, setup

APP = ("flows", "tasks", "deployments", "prompts")

packages = [*find_packages(include=["eightflow", "eightflow.*"]), "eightflow_app"]
package_dir: dict[str, str] = {}
for folder in APP:
    package_dir[f"eightflow_app.{folder}"] = folder
    for sub in find_packages(where=folder):
        packages.append(f"eightflow_app.{folder}.{sub}")
    packages.append(f"eightflow_app.{folder}")

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "eightflow": ["py.typed", "embedded/data/*.txt"],
        "eightflow_app.prompts": ["*.md"],
        "eightflow_app.deployments": ["parameters/*.json"],
    },
    include_package_data=False,
)

"""Package discovery for setuptools; all other metadata lives in pyproject.toml.

The kernels live in the top-level folder ``kernels/`` but install as ``tritongrad.kernels``
(``[tool.setuptools.package-dir]``). pyproject's static ``packages.find`` cannot combine a
search with that mapping, so the package list is found here, from the folders themselves:
a new subpackage can never be left out of the wheel.
"""

from setuptools import find_packages, setup

packages = find_packages(include=["tritongrad", "tritongrad.*"])
packages += ["tritongrad." + name for name in find_packages(include=["kernels", "kernels.*"])]

setup(packages=packages)

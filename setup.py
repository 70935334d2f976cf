"""Packages: toolkit and every subpackage it grows, plus the data folders setup.cfg maps into it."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["toolkit", "toolkit.*"]) + ["toolkit.templates", "toolkit.macros",
                                                                     "toolkit.demo_data"])

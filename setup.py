"""Kept for scrapyd-deploy only: scrapyd-client 2.0.3 builds the egg with
``python setup.py bdist_egg`` and, when no setup.py exists, writes its own
(named "project", packaging tests/ too) into the checkout.  All metadata is in
pyproject.toml; eggs carry no dependencies (install requirements.txt on the
Scrapyd host)."""

from setuptools import setup

setup()

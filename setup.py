"""Packaging for Scrapyd eggs (scrapyd-deploy) and pip installs.

Eggs carry no dependencies: install requirements.txt on the Scrapyd host."""

from setuptools import find_packages, setup

setup(
    name="soundscraping",
    version="0.1.0",
    packages=find_packages(include=["soundscraping", "soundscraping.*"]),
    include_package_data=True,
    # The sentiment lexicon and the English vocabulary, read with importlib.resources (works inside an egg).
    package_data={"soundscraping.analysis": ["*.tsv", "*.txt"]},
    python_requires=">=3.11",
    entry_points={
        "scrapy": ["settings = soundscraping.settings"],
        "console_scripts": ["soundscraping = soundscraping.__main__:main"],
    },
)

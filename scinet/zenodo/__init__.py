"""The authors' published training logs (Zenodo record 4425741): download, verify, unpack, tidy tables.

``fetch_record`` is the entry point; :mod:`scinet.zenodo.fetch` explains the download and its outcomes,
:mod:`scinet.zenodo.logs` the log formats and tables. Nothing here reads params.yaml or knows DVC.
"""

from scinet.zenodo.archives import is_archive, unpack
from scinet.zenodo.fetch import FetchOptions, FetchResult, fetch_record
from scinet.zenodo.logs import COLUMNS, LogTables, parse_log, parse_logs, write_tables
from scinet.zenodo.record import (
    RecordFile,
    ZenodoError,
    ZenodoParams,
    ZenodoParamsError,
    check_record_id,
    parse_record_files,
    parse_zenodo_params,
    verify_file,
)

__all__ = [
    "COLUMNS",
    "FetchOptions",
    "FetchResult",
    "LogTables",
    "RecordFile",
    "ZenodoError",
    "ZenodoParams",
    "ZenodoParamsError",
    "check_record_id",
    "fetch_record",
    "is_archive",
    "parse_log",
    "parse_logs",
    "parse_record_files",
    "parse_zenodo_params",
    "unpack",
    "verify_file",
    "write_tables",
]

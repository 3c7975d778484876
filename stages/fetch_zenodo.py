"""Stage fetch_zenodo: the authors' published training logs (Zenodo), checksums verified, as tidy tables.

Usage: ``python -m stages.fetch_zenodo``. Reads ``zenodo.record`` and writes data/zenodo/ (status.json, raw/,
unpacked/, episodes.tsv, losses.tsv, selection.tsv; see scinet/zenodo/fetch.py). Without network access it
writes only data/zenodo/status.json with ``available: false`` and the reason, and exits 0; a bad record
(HTTP error, checksum mismatch, malformed metadata, an unsafe, conflicting or too large archive, a record
that changed during the download) prints one line, exits 1 and leaves data/zenodo/ as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scinet.errors import ParamsError
from scinet.zenodo import ZenodoError, fetch_record, parse_zenodo_params
from stages.common import fail_on_bad_params, read_params

OUT = Path("data/zenodo")


def main() -> None:
    try:
        params = parse_zenodo_params(read_params().get("zenodo"))
    except ParamsError as err:
        fail_on_bad_params(err)
    try:
        result = fetch_record(params.record, OUT)
    except ZenodoError as err:
        print(f"fetch_zenodo: error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"fetch_zenodo: {result.summary()}")


if __name__ == "__main__":
    main()

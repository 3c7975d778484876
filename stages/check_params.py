"""Stage check_params: every section of params.yaml validated before any other stage runs.

Usage: ``python -m stages.check_params``. Every other stage depends on its output, so DVC runs it first; a
bad value then fails here, before DVC deletes any other stage's outputs to re-run it. The output's content
never changes, so a valid change of params re-runs this stage without making the others re-run.
"""

from __future__ import annotations

from pathlib import Path

from scinet.errors import ParamsError
from scinet.params import parse_env, parse_policy
from scinet.selection.params import parse_selection
from scinet.zenodo.record import parse_zenodo_params
from stages.common import fail_on_bad_params, read_params

OUT = Path("data/params.ok")
SECTIONS = ("env", "policy", "selection", "zenodo")


def main() -> None:
    raw = read_params()
    try:
        unknown = sorted(set(raw) - set(SECTIONS))
        if unknown:
            raise ParamsError(f"unknown section(s) {unknown}; expected {list(SECTIONS)}")
        parse_env(raw.get("env"))
        parse_policy(raw.get("policy"))
        parse_selection(raw.get("selection"))
        parse_zenodo_params(raw.get("zenodo"))
    except ParamsError as err:
        fail_on_bad_params(err)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("params.yaml: every section is valid\n")


if __name__ == "__main__":
    main()

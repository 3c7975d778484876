"""Fixtures shared by the test modules: a fake zenodo.org on 127.0.0.1 (tests/fake_zenodo.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fake_zenodo import Certificates, FakeZenodo, make_certificates, proxy_environment, running
from zenodo_samples import RECORD, sample_record, use_environment

os.environ["DVC_NO_ANALYTICS"] = "1"
"""The temporary repositories that tests make with `dvc init` would otherwise report usage to the network."""


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def zenodo(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeZenodo]:
    """A fake zenodo.org holding the sample record; this process and its children reach it via the proxy."""
    with running(certificates) as (fake, proxy):
        fake.records[RECORD] = sample_record()
        use_environment(monkeypatch, proxy_environment(proxy.url, certificates.ca, dict(os.environ)))
        yield fake
        assert all(line == "CONNECT zenodo.org:443" for line in proxy.connects), proxy.connects

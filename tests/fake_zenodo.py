"""A local stand-in for zenodo.org that the real zenodo-get reaches through an HTTPS proxy on 127.0.0.1.

zenodo-get always asks for ``https://zenodo.org/...``. The tests point ``HTTPS_PROXY`` (and ``ALL_PROXY``) at
:class:`ConnectProxy`, which answers ``CONNECT zenodo.org:443`` by tunnelling to :class:`FakeZenodo`, a TLS
server with a certificate for zenodo.org signed by a throw-away CA that ``SSL_CERT_FILE`` makes the only
trusted one. Any other host is refused by the proxy, and the real zenodo.org could not pass TLS
verification either, so a misconfigured test fails instead of reaching the internet; tests also assert on the
fake server's request log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import http.server
import json
import selectors
import socket
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

HOST = "zenodo.org"


@dataclass(frozen=True)
class Certificates:
    """A CA file to trust and the zenodo.org certificate and key it signed."""

    ca: Path
    cert: Path
    key: Path


def make_certificates(directory: Path) -> Certificates:
    """A one-day CA and a zenodo.org server certificate (EC keys: fast to generate).

    Made with the ``cryptography`` package when it is installed (today only as a dependency of dvc's
    asyncssh), else with the ``openssl`` command line.
    """
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return make_certificates_openssl(directory)
    return _make_certificates_cryptography(directory)


def _paths(directory: Path) -> Certificates:
    return Certificates(ca=directory / "ca.pem", cert=directory / "zenodo.pem", key=directory / "zenodo.key")


def make_certificates_openssl(directory: Path) -> Certificates:
    """The same certificates made with the ``openssl`` command line (OpenSSL 1.1.1 or later)."""
    paths = _paths(directory)
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_key, request = directory / "ca.key", directory / "zenodo.csr"
    extensions = directory / "zenodo.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{HOST}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    commands = [
        ["openssl", "req", "-x509", *ec_key, "-keyout", ca_key, "-out", paths.ca, "-days", "1",
         "-subj", "/CN=scinet test CA", "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", "-new", *ec_key, "-keyout", paths.key, "-out", request, "-subj", f"/CN={HOST}"],
        ["openssl", "x509", "-req", "-in", request, "-CA", paths.ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", paths.cert, "-days", "1", "-extfile", extensions],
    ]  # fmt: skip
    for command in commands:
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return paths


def _make_certificates_cryptography(directory: Path) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scinet test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = _paths(directory)
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@dataclass
class FakeRecord:
    """A record: files by name, plus what to get wrong (a false md5 in the metadata, a missing file).

    A name may be hostile (``../x``, an absolute path): its link quotes it twice, because zenodo-get unquotes
    a link once before requesting it and the server unquotes the path once more, so the file is still served.
    """

    files: dict[str, bytes]
    claimed_md5: dict[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def metadata(self, record: str) -> dict[str, object]:
        """JSON shaped like ``https://zenodo.org/api/records/<id>`` (the fields zenodo-get reads)."""
        return {
            "id": int(record),
            "doi": f"10.5281/zenodo.{record}",
            "metadata": {
                "title": "Fake record for tests",
                "doi": f"10.5281/zenodo.{record}",
                "publication_date": "2021-01-08",
                "keywords": [],
            },
            "files": [
                {
                    "id": f"file-{index}",
                    "key": name,
                    "size": len(data),
                    "checksum": f"md5:{self.claimed_md5.get(name, md5(data))}",
                    "links": {
                        "self": f"https://{HOST}/api/records/{record}/files/{_quote_twice(name)}/content"
                    },
                }
                for index, (name, data) in enumerate(self.files.items())
            ],
        }


def _quote_twice(name: str) -> str:
    return quote(quote(name, safe=""), safe="")


class FakeZenodo:
    """The TLS server behind the proxy: serves records and their files, logs every request path.

    ``queued[record]`` holds versions of a record served one per JSON request before ``records[record]``:
    a record that changes between the stage's own read and zenodo-get's. Files are served from the version
    of the record whose JSON was served last.
    """

    def __init__(self, certificates: Certificates) -> None:
        self.records: dict[str, FakeRecord] = {}
        self.queued: dict[str, list[FakeRecord]] = {}
        self._served: dict[str, FakeRecord] = {}
        self.raw_metadata: dict[str, bytes] = {}  # record -> body served verbatim (malformed records)
        self.requests: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(self.path)
                status, body = fake.respond(self.path.split("?")[0])
                self.send_response(status)
                self.send_header(
                    "Content-Type", "application/json" if self.path.count("/") == 3 else "text/plain"
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates.cert, certificates.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def respond(self, path: str) -> tuple[int, bytes]:
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["api", "records"]:
            record = parts[2]
            if record in self.raw_metadata:
                return 200, self.raw_metadata[record]
            queued = self.queued.get(record)
            version = queued.pop(0) if queued else self.records.get(record)
            if version is not None:
                self._served[record] = version
                return 200, json.dumps(version.metadata(record)).encode()
        if (
            len(parts) == 6
            and parts[:2] == ["api", "records"]
            and parts[3] == "files"
            and parts[5] == "content"
        ):
            fake, name = self._served.get(parts[2]), unquote(parts[4])
            if fake is not None and name in fake.files and name not in fake.missing:
                return 200, fake.files[name]
        return 404, b'{"status": 404, "message": "not found"}'

    def file_downloads(self) -> list[str]:
        """Paths of file downloads (not record JSON) seen so far."""
        with self._lock:
            return [path for path in self.requests if path.endswith("/content")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ConnectProxy:
    """An HTTP proxy that only tunnels ``CONNECT zenodo.org:443``, to the fake server; all else gets 403."""

    def __init__(self, upstream_port: int) -> None:
        self.connects: list[str] = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request_line = self.rfile.readline(65537).decode("latin-1").strip()
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                method, target, *_ = [*request_line.split(" "), "", ""]
                proxy.connects.append(f"{method} {target}")
                if method != "CONNECT" or target != f"{HOST}:443":
                    self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                with socket.create_connection(("127.0.0.1", upstream_port)) as upstream:
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self.wfile.flush()
                    with contextlib.suppress(OSError):  # a client that rejects the certificate resets
                        _relay(self.connection, upstream)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copies bytes both ways until either side closes."""
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            for key, _ in selector.select(timeout=30):
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)


def closed_port() -> int:
    """A local port with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def proxy_environment(proxy_url: str, ca_file: Path, base: dict[str, str]) -> dict[str, str]:
    """``base`` without any proxy or CA settings of the machine, then everything routed to ``proxy_url`` and
    only ``ca_file`` trusted (httpx2, which zenodo-get uses, reads SSL_CERT_FILE; requests would read
    REQUESTS_CA_BUNDLE)."""
    cleaned = {
        key: value
        for key, value in base.items()
        if not key.lower().endswith("_proxy") and key not in {"SSL_CERT_DIR", "CURL_CA_BUNDLE"}
    }
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        cleaned[name] = proxy_url
    cleaned.update({"SSL_CERT_FILE": str(ca_file), "REQUESTS_CA_BUNDLE": str(ca_file)})
    return cleaned


@contextlib.contextmanager
def running(certificates: Certificates) -> Iterator[tuple[FakeZenodo, ConnectProxy]]:
    """A fake zenodo.org and the proxy in front of it, closed afterwards."""
    fake = FakeZenodo(certificates)
    proxy = ConnectProxy(fake.port)
    try:
        yield fake, proxy
    finally:
        proxy.close()
        fake.close()

"""A local SFTP server for tests: what an SSH DVC remote needs, on 127.0.0.1, with no account or network."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncssh


class _NoLogin(asyncssh.SSHServer):
    """Lets every client in: the server only ever listens on the loopback interface of a test."""

    def begin_auth(self, username: str) -> bool:
        return False


@contextmanager
def sftp_server(root: Path, home: Path) -> Iterator[int]:
    """Serves ``root`` as ``/`` over SFTP on 127.0.0.1 and yields the port.

    ``home`` becomes the client's home: its ``.ssh/known_hosts`` trusts the server's fresh host key, as a
    user's does for their cluster, so the client checks the key as it would there.
    """
    key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def chrooted(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(chan, chroot=str(root).encode())

    async def listen() -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[key], server_factory=_NoLogin, sftp_factory=chrooted
        )

    listening = asyncio.run_coroutine_threadsafe(listen(), loop).result(timeout=30)
    port = listening.sockets[0].getsockname()[1]
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    public = key.export_public_key().decode().split()
    (ssh / "known_hosts").write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
    try:
        yield port
    finally:
        listening.close()
        asyncio.run_coroutine_threadsafe(listening.wait_closed(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)

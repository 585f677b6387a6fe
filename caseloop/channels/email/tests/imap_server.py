"""A throwaway Dovecot IMAP server on loopback: own config, mail folder, port and TLS certificate.

Debian's `dovecot-imapd` provides the binary (bootstrap.py installs it for the
tests); each test session gets a fresh server that serves IMAPS only, with a
certificate for "localhost" made with openssl at start-up and one passwd-file
user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
OPENSSL = shutil.which("openssl")


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    username: str
    password: str
    ca_file: str
    process: subprocess.Popen[bytes]
    root: Path


def missing_reason() -> str | None:
    if DOVECOT is None:
        return "Dovecot is not installed (apt-get install dovecot-imapd; bootstrap.py test does it)"
    if OPENSSL is None:
        return "openssl is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _users() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) for running as root or as oneself."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        internal = "dovecot" if _has_user("dovecot") else "nobody"
        login = "dovenull" if _has_user("dovenull") else "nobody"
        return internal, login, nobody.pw_uid, nobody.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def start(*, username: str = "support@example.com", password: str = "imap-test-secret") -> ImapServer:  # noqa: S107
    assert DOVECOT is not None and OPENSSL is not None
    root = Path(tempfile.mkdtemp(prefix="caseloop-dovecot-"))
    root.chmod(0o755)
    internal, login, uid, gid = _users()
    subprocess.run(  # noqa: S603  (fixed arguments, our own temp paths)
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    (root / "passwd").write_text(f"{username}:{{PLAIN}}{password}::::::\n")
    home = root / "home"
    home.mkdir()
    os.chown(home, uid, gid)
    port = _free_port()
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
mail_location = maildir:{home}/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}/%n
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Archive {{
    auto = create
  }}
}}
""")
    config = str(root / "dovecot.conf")
    process = subprocess.Popen([DOVECOT, "-F", "-c", config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"dovecot exited: {output}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("dovecot did not start listening")
    return ImapServer(host="localhost", port=port, username=username, password=password,
                      ca_file=str(root / "cert.pem"), process=process, root=root)  # fmt: skip


def stop(server: ImapServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
    shutil.rmtree(server.root, ignore_errors=True)

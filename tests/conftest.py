"""Shared pytest fixtures.

Mail: ``dovecot`` (a Dovecot with MOVE), ``dovecot_without_move`` (MOVE hidden) and ``smtp_server``
(aiosmtpd) are session-scoped real servers from tests/support; tests give each case its own folders or
clear what they use.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/ on the path for `support` (a foreign `tests` package in site-packages shadows `tests.support`)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.dovecot import Dovecot
from support.smtp import SmtpServer

DOVECOT_BINARY = Path("/usr/sbin/dovecot")


def _require_dovecot() -> None:
    if not DOVECOT_BINARY.exists():
        pytest.skip("Debian dovecot-imapd is not installed")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot (IMAP+STARTTLS and IMAPS, MOVE offered) with user ``uvg``."""
    _require_dovecot()
    with Dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_without_move() -> Iterator[Dovecot]:
    """A running Dovecot that does not advertise MOVE, so moves take COPY + UID EXPUNGE."""
    _require_dovecot()
    with Dovecot(move=False) as server:
        yield server


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """A running aiosmtpd server on 127.0.0.1 with login ``robot`` / ``Robot-Passwort-1``."""
    with SmtpServer(users={"robot": "Robot-Passwort-1"}) as server:
        yield server

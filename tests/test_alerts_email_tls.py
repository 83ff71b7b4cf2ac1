"""The email channel over STARTTLS and implicit TLS (`ssl`) against a real SMTP server (aiosmtpd)
on 127.0.0.1, with a throwaway CA and server certificate made by trustme.

The client trusts the test CA the way a user with a private CA would: `SSL_CERT_FILE` names a PEM
bundle that OpenSSL reads when the channel builds its default TLS context.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from alert_rows import Said, publish
from peers import Mailbox, free_port
from sqlalchemy import select
from test_alerts_dispatch import T0, deliveries, make_config, store_two_alerts

from newsmon.alerts.dispatch import dispatch_pending
from newsmon.config import Config
from newsmon.storage import Database
from newsmon.storage.models import Delivery

USER, PASSWORD = "desk", "correct-horse-battery"


class Logins:
    """aiosmtpd authenticator accepting USER/PASSWORD; records every attempt and whether the
    connection was encrypted when the credentials arrived."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, bool]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, _mechanism: str, auth_data: Any
    ) -> AuthResult:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        assert isinstance(auth_data, LoginPassword)
        self.attempts.append((auth_data.login.decode(), encrypted))
        accepted = (auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD)
        return AuthResult(success=accepted, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    """The server side: a certificate for 127.0.0.1 signed by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def trust_test_ca(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user with a private CA does: point SSL_CERT_FILE at a bundle holding it."""
    bundle = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))


@pytest.fixture
def trust_another_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client trusting some private CA, but not the one that signed the server's certificate."""
    bundle = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))


@pytest.fixture
def sqlite_archive(tmp_path: Path) -> Iterator[Database]:
    """Transport tests need one backend only; the outbox itself is tested on both elsewhere."""
    database = Database.open(f"sqlite:///{tmp_path / 'newsmon.db'}")
    try:
        yield database
    finally:
        database.dispose()


@contextmanager
def smtp_peer(mailbox: Mailbox, **smtp: Any) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 with aiosmtpd's TLS/AUTH options; yields its port."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **smtp)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def email_config(
    port: int, security: str, password: str | None = PASSWORD, **alerts: str
) -> Config:
    login = f", username: {USER}, password: '{password}'" if password else ""
    settings = "".join(f"  {key}: {value}\n" for key, value in alerts.items())
    return make_config(
        f"- {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: {security},"
        f" from: newsmon@example.org, to: [desk@example.org], timeout: 5s{login}}}\n",
        "  retry_backoff: 0s\n" + settings,
    )


def store_one_alert(database: Database, config: Config) -> None:
    with database.session() as session:
        publish(
            session,
            config,
            url="http://127.0.0.1/a",
            outlet="Yonhap",
            published=T0,
            said=[Said(3000)],
        )


def last_error(database: Database) -> str:
    with database.session() as session:
        return session.scalars(select(Delivery.last_error)).one()


@pytest.mark.usefixtures("trust_test_ca")
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_starttls_logs_in_only_after_the_handshake_and_delivers(database: Database, server_tls):
    mailbox, logins = Mailbox(), Logins()
    # A lax server: it would accept a plaintext login and plaintext mail, so only the client's
    # own behaviour keeps the password off the wire.
    with smtp_peer(
        mailbox,
        tls_context=server_tls,
        require_starttls=False,
        authenticator=logins,
        auth_require_tls=False,
        auth_required=True,
    ) as port:
        config = email_config(port, "starttls")
        ids = store_two_alerts(database, config)
        report = dispatch_pending(database, config)
    assert (report.sent, report.errors) == (2, [])
    assert logins.attempts == [(USER, True), (USER, True)]  # one connection per instant alert
    assert sorted(m["Message-ID"] for m in mailbox.messages) == sorted(
        f"<{i}@newsmon>" for i in ids
    )
    assert deliveries(database) == [("mail", "sent", 1), ("mail", "sent", 1)]


@pytest.mark.usefixtures("trust_test_ca")
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_ssl_delivers_over_implicit_tls_with_login(sqlite_archive: Database, server_tls):
    mailbox, logins = Mailbox(), Logins()
    # aiosmtpd cannot see that it runs under implicit TLS, so it offers AUTH only when told that
    # TLS is not required (aio-libs/aiosmtpd#281); the authenticator checks the transport itself.
    with smtp_peer(
        mailbox,
        ssl_context=server_tls,
        authenticator=logins,
        auth_require_tls=False,
        auth_required=True,
    ) as port:
        config = email_config(port, "ssl")
        store_one_alert(sqlite_archive, config)
        report = dispatch_pending(sqlite_archive, config)
    assert (report.sent, report.errors) == (1, [])
    assert logins.attempts == [(USER, True)]
    assert [str(m["Subject"]) for m in mailbox.messages] == [
        "[newsmon] North Korean troops in Russia: 3,000"
    ]


@pytest.mark.usefixtures("trust_test_ca")
def test_a_wrong_password_fails_at_once_and_never_shows_the_password(
    sqlite_archive: Database, server_tls, caplog: pytest.LogCaptureFixture
):
    mailbox, logins = Mailbox(), Logins()
    wrong = "wrong-pass-Zq81"
    with smtp_peer(
        mailbox,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=logins,
        auth_require_tls=True,
        auth_required=True,
    ) as port:
        config = email_config(port, "starttls", password=wrong)
        store_one_alert(sqlite_archive, config)
        with caplog.at_level(logging.DEBUG):
            report = dispatch_pending(sqlite_archive, config)
    assert (report.failed, report.errors) == (1, ["mail: SMTP login refused: 535"])
    assert logins.attempts and set(logins.attempts) == {(USER, True)}  # smtplib tries each method
    assert mailbox.messages == []
    assert deliveries(sqlite_archive) == [("mail", "failed", 1)]
    assert wrong not in last_error(sqlite_archive) and wrong not in caplog.text


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.parametrize(
    ("trust", "server_name", "reason"),
    [
        ("trust_another_ca", "127.0.0.1", "unable to get local issuer certificate"),
        ("trust_test_ca", "mail.example.org", "IP address mismatch"),
    ],
    ids=["unknown-ca", "wrong-name"],
)
def test_a_certificate_the_client_does_not_trust_fails_without_plaintext_fallback(
    sqlite_archive: Database,
    ca: trustme.CA,
    request: pytest.FixtureRequest,
    security: str,
    trust: str,
    server_name: str,
    reason: str,
):
    request.getfixturevalue(trust)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(server_name).configure_cert(server_tls)
    mailbox, logins = Mailbox(), Logins()
    # The STARTTLS server would take plaintext mail and a plaintext login: a client falling back
    # to plaintext after the failed handshake would deliver, and show the password.
    tls = (
        {"tls_context": server_tls, "require_starttls": False}
        if security == "starttls"
        else {"ssl_context": server_tls}
    )
    with smtp_peer(mailbox, authenticator=logins, auth_require_tls=False, **tls) as port:
        config = email_config(port, security, max_attempts="1")
        store_one_alert(sqlite_archive, config)
        report = dispatch_pending(sqlite_archive, config)
    assert report.failed == 1
    [error] = report.errors
    assert error.startswith(f"mail: cannot send mail via 127.0.0.1:{port}: TLS certificate not")
    assert reason in error and error.endswith("; for a private CA set SSL_CERT_FILE")
    assert (mailbox.messages, logins.attempts) == ([], [])
    assert deliveries(sqlite_archive) == [("mail", "failed", 1)]


def test_starttls_mode_refuses_a_server_that_does_not_offer_starttls(sqlite_archive: Database):
    mailbox, logins = Mailbox(), Logins()
    # A plaintext-only server that even offers AUTH in the clear.
    with smtp_peer(mailbox, authenticator=logins, auth_require_tls=False) as port:
        config = email_config(port, "starttls")
        store_one_alert(sqlite_archive, config)
        report = dispatch_pending(sqlite_archive, config)
    assert report.retried == 1
    assert report.errors == [
        f"mail: cannot send mail via 127.0.0.1:{port}: STARTTLS extension not supported by server."
    ]
    assert (mailbox.messages, logins.attempts) == ([], [])
    assert deliveries(sqlite_archive) == [("mail", "pending", 1)]


def test_ssl_mode_against_a_plaintext_server_fails_clearly(sqlite_archive: Database):
    mailbox = Mailbox()
    with smtp_peer(mailbox) as port:
        config = email_config(port, "ssl", password=None)
        store_one_alert(sqlite_archive, config)
        report = dispatch_pending(sqlite_archive, config)
    [error] = report.errors
    assert error.startswith(f"mail: cannot send mail via 127.0.0.1:{port}: [SSL")
    assert (report.retried, mailbox.messages) == (1, [])


def test_a_server_that_takes_logins_only_over_tls_gets_none_from_security_none(
    sqlite_archive: Database, server_tls
):
    mailbox, logins = Mailbox(), Logins()
    with smtp_peer(
        mailbox,
        tls_context=server_tls,
        require_starttls=False,
        authenticator=logins,
        auth_require_tls=True,
        auth_required=True,
    ) as port:
        config = email_config(port, "none")
        store_one_alert(sqlite_archive, config)
        report = dispatch_pending(sqlite_archive, config)
    assert report.errors == [
        f"mail: cannot send mail via 127.0.0.1:{port}: SMTP AUTH extension not supported by server."
    ]
    assert (mailbox.messages, logins.attempts) == ([], [])

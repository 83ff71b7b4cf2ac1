"""`email`: multipart text + HTML over SMTP (none / starttls / ssl, optional login).

Message-ID is `<alert id@newsmon>` so a mail system can drop a repeat; a digest's Message-ID is
derived from the ids of the alerts it carries.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from typing import Any, Literal

from pydantic import Field, SecretStr

from newsmon.alerts.channels.base import DeliveryError, Sender, register_channel
from newsmon.alerts.wording import (
    KIND_WORDS,
    change,
    digest_title,
    facts,
    headline,
    source_line,
    what_happened,
)
from newsmon.config import ChannelBase

SUBJECT_PREFIX = "[newsmon] "


def subject(payloads: list[dict[str, Any]]) -> str:
    if len(payloads) == 1:
        return SUBJECT_PREFIX + " ".join(headline(payloads[0]).split())
    return SUBJECT_PREFIX + digest_title(payloads)


def message_id(payloads: list[dict[str, Any]]) -> str:
    if len(payloads) == 1:
        return f"<{payloads[0]['id']}@newsmon>"
    ids = "\n".join(sorted(p["id"] for p in payloads))
    return f"<digest-{hashlib.sha256(ids.encode()).hexdigest()[:32]}@newsmon>"


def alert_text(payload: dict[str, Any]) -> str:
    article = payload["article"]
    lines = [headline(payload), "", what_happened(payload), ""]
    for name, text in facts(payload):
        lines.append(f"    “{text}”" if name == "Quote" else f"{name}: {text}")
    lines += [
        "",
        f"Article: {article.get('title') or article['url']}",
        f"Source: {source_line(payload)}",
        article["url"],
        "",
        f"Alert id: {payload['id']}",
    ]
    return "\n".join(lines)


def alert_html(payload: dict[str, Any]) -> str:
    article = payload["article"]
    forecast = " (forecast)" if payload.get("projection") else ""
    title = (
        headline(payload)
        if payload["kind"] == "baseline"
        else f"{payload['label']}{forecast}: {change(payload)}"
    )
    parts = [
        f"<h2>{escape(title)}</h2>",
        f"<p><strong>{escape(KIND_WORDS.get(payload['kind'], payload['kind']))}.</strong> "
        f"{escape(what_happened(payload))}</p>",
    ]
    rows = [(name, text) for name, text in facts(payload) if name != "Quote"]
    if rows:
        parts.append(
            "<table>"
            + "".join(
                f"<tr><th align=left>{escape(name)}</th><td>{escape(text)}</td></tr>"
                for name, text in rows
            )
            + "</table>"
        )
    if payload.get("sentence") and payload["kind"] not in ("baseline", "test"):
        parts.append(f"<blockquote>{escape(' '.join(payload['sentence'].split()))}</blockquote>")
    parts.append(
        f'<p><a href="{escape(article["url"], quote=True)}">'
        f"{escape(article.get('title') or article['url'])}</a><br>"
        f"{escape(source_line(payload))}</p>"
    )
    parts.append(f'<p style="color:#888">Alert id: {escape(payload["id"])}</p>')
    return "\n".join(parts)


def build_message(settings: EmailChannel, payloads: list[dict[str, Any]]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject(payloads)
    mail["From"] = settings.from_
    mail["To"] = ", ".join(settings.to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id(payloads)
    mail["X-Newsmon-Alert-Ids"] = " ".join(p["id"] for p in payloads)
    separator = "\n\n" + "-" * 60 + "\n\n"
    mail.set_content(separator.join(alert_text(p) for p in payloads) + "\n")
    html_body = "\n<hr>\n".join(alert_html(p) for p in payloads)
    mail.add_alternative(
        f'<!DOCTYPE html>\n<html><body style="font-family:sans-serif">\n{html_body}\n'
        "</body></html>\n",
        subtype="html",
    )
    return mail


class EmailChannel(ChannelBase):
    type: Literal["email"]
    host: str
    port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)


class EmailSender(Sender[EmailChannel]):
    def send(self, payloads: list[dict[str, Any]]) -> str:
        if self.settings.mode == "digest":
            return self._deliver(build_message(self.settings, payloads))
        answers = [self._deliver(build_message(self.settings, [p])) for p in payloads]
        return answers[-1]

    def _deliver(self, mail: EmailMessage) -> str:
        settings = self.settings
        timeout = settings.timeout.total_seconds()
        sending = False
        try:
            if settings.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    timeout=timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
            with smtp:
                if settings.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                password = settings.password.get_secret_value() if settings.password else ""
                if settings.username and password:  # login only when both are given
                    smtp.login(settings.username, password)
                sending = True  # from here on, a lost connection may follow an accepted mail
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused: {exc.smtp_code}", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"SMTP refused every recipient: {', '.join(exc.recipients)}", permanent=True
            ) from None
        except smtplib.SMTPResponseException as exc:
            detail = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {detail}", permanent=500 <= exc.smtp_code < 600
            ) from None
        except ssl.SSLCertVerificationError as exc:  # never retried without TLS
            raise DeliveryError(
                f"cannot send mail via {settings.host}:{settings.port}: TLS certificate not"
                f" trusted ({exc.verify_message}); for a private CA set SSL_CERT_FILE"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"cannot send mail via {settings.host}:{settings.port}: {exc}"
                + (" (while sending: the server may have accepted it)" if sending else ""),
                uncertain=sending,
            ) from None
        accepted = len(settings.to) - len(refused)
        return f"SMTP {settings.host}:{settings.port} accepted {accepted} recipient(s)"


register_channel(EmailChannel, EmailSender)

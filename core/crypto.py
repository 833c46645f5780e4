"""Secrets at rest: a model field that stores text encrypted with Fernet (AES-128-CBC with an
HMAC-SHA256, from the ``cryptography`` package).

The keys come from ``settings.SHANHUO_CREDENTIALS_KEYS`` (the environment's
``SHANHUO_CREDENTIALS_KEY``: one or more Fernet keys, comma-separated). The first key
encrypts; every key decrypts, so a new key can be put first and the old one kept until every
value has been saved again (``MultiFernet``). A value read back with no key that fits raises
``CredentialsKeyError``: the application never shows or sends a secret it cannot read.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


class CredentialsKeyError(Exception):
    """A stored secret cannot be decrypted with the configured keys."""


def _keys() -> list[bytes]:
    configured = [key.strip() for key in settings.SHANHUO_CREDENTIALS_KEYS if key.strip()]
    if configured:
        return [key.encode() for key in configured]
    if not settings.DEBUG:
        raise ImproperlyConfigured(
            "SHANHUO_CREDENTIALS_KEY must be set to store platform credentials "
            "(generate one: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    # Development only: a key derived from SECRET_KEY, so a fresh checkout works.
    digest = hashlib.sha256(b"shanhuo-credentials:" + settings.SECRET_KEY.encode()).digest()
    return [base64.urlsafe_b64encode(digest)]


def fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in _keys()])
    except ValueError as error:
        raise ImproperlyConfigured(
            "SHANHUO_CREDENTIALS_KEY holds a key that is not a Fernet key."
        ) from error


def encrypt(text: str) -> str:
    if not text:
        return ""
    return PREFIX + fernet().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise CredentialsKeyError("The stored value is not encrypted.")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise CredentialsKeyError(
            "A stored secret cannot be decrypted: SHANHUO_CREDENTIALS_KEY changed."
        ) from error


class Secret(str):
    """Decrypted text whose ``repr`` hides it, so a traceback or a log line that prints the
    object shows no secret."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"


class UnreadableSecret(Secret):
    """What a stored secret reads as when no configured key fits: empty, and marked so a page
    can say "enter it again" instead of failing."""

    unreadable = True


class EncryptedTextField(models.TextField):
    """Text stored encrypted. Python code reads and writes plain text (a ``Secret``); the
    database holds ``fernet:<token>``. Not searchable and not orderable, by design."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        try:
            return Secret(decrypt(value))
        except CredentialsKeyError:
            return UnreadableSecret("")

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(str(value))

"""An e-mail address."""
from __future__ import annotations

from .. import parsing
from .base import Kind


class Email(Kind):
    name = "email"
    distinctive = True

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_email(raw)


KIND = Email()

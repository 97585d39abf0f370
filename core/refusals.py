"""The one base of the errors by which a domain rule refuses a change.

A service raises a subclass (VendorRuleError, ContractRuleError, …) with a
message for the user, already translated; a view shows it beside the form,
the API answers with a problem document of the class's ``status``.  Any
other exception, ValueError included, is a bug: it is never shown to the
user as if it were a rule.  (Refusal stays a ValueError, as the domain
errors were, so code that catches them as such keeps working.)
"""
from __future__ import annotations


class Refusal(ValueError):
    """A domain rule refused the change; ``str(error)`` is the user's message."""

    status = 409  # the API's answer: the request is sound, the record's state refuses it

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        # The form field the refusal is about, when it is about one: a form
        # shows the message beside that field (core.registers' save).
        self.field = field

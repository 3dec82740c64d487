"""What connections tell the rest of the console, so that connections imports none of the apps built on it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by the connection test page after a test, with ``connection``. Each receiver returns a dict (or None)
# merged into the test result's template context: the directory answers whether it started indexing people.
connection_tested = Signal()

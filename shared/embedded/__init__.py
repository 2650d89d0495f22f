"""Embedded stand-ins for the real infrastructure: a Tansu Kafka broker and an SMTP mail sink.

``regwatch run`` with no settings uses these, so the product runs on a laptop with nothing
installed; tests use them when Apache Kafka is not available.
"""

from shared.embedded.mailsink import MailSink
from shared.embedded.ports import free_port
from shared.embedded.tansu import TansuBroker, TansuError

__all__ = ["MailSink", "TansuBroker", "TansuError", "free_port"]

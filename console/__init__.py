"""Recognition console core: domain, workflow, settings, desk-service client. No Qt here."""

__version__ = "0.1.0"

"""tweetsent's domain library: plain Python, no Prefect.

Stages live in their own modules: ``settings``, ``db``, ``sources``, ``validation``,
``cleaning``, ``ingest`` and ``status``.
"""

__version__ = "0.1.0"

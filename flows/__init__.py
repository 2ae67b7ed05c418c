"""Prefect flows (they only wire tasks together) and the ``tweetsent`` command line."""

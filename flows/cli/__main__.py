"""``python -m flows.cli``: the same as the ``tweetsent`` command."""

from flows.cli.main import main

main()

"""``python -m newsarchive``: the ``newsarchive`` command, where its console script is not at hand."""

from newsarchive.cli import main

main()

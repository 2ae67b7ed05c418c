"""The ``tweetsent`` command line, one module per group of commands: ``data`` (ingest, status,
quarantine, synthetic), ``model`` (train, score, report, models, promote, evaluate, run),
``database`` (db, sql) and ``ops`` (server, serve, deploy, deployments, decisions); ``common``
holds what they share and ``main`` builds the app. Nothing is imported here, so that importing
one module does not import them all."""

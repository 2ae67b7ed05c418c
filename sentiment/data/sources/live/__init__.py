"""Live sources: the X API v2 recent search (``x:QUERY``) and Bluesky's post search
(``bluesky:QUERY``).

- :mod:`.names` parses the source names; :mod:`.credentials` finds the tokens (a Prefect Secret
  block, else the environment) and keeps them out of every message.
- :mod:`.http` is the one HTTP layer of both: retries with backoff on 5xx, timeouts and lost
  connections; rate limits and refused credentials as their own exceptions.
- :mod:`.x_api` and :mod:`.bluesky` turn one API page into canonical records and say where the
  next request starts; :mod:`sentiment.usecases.pulling` stores pages and moves the cursor.
"""

"""The local Prefect server and who may reach it.

- :mod:`eightflow.server.local`: a persistent Prefect server on 127.0.0.1 under
  ``EIGHTFLOW_HOME`` (start, status, stop);
- :mod:`eightflow.server.prefect_env`: which Prefect API a process uses, chosen before
  Prefect is imported;
- :mod:`eightflow.server.auth`: the auth string, CSRF, CORS and the private files;
- :mod:`eightflow.server.owner`: which home a running server belongs to (a clear error when
  two homes meet on one port);
- the front door, a small reverse proxy that knows two roles:
  :mod:`eightflow.server.credentials` (the admin and runner credentials, and whose a
  request is), :mod:`eightflow.server.runner_policy` (what the runner role may call),
  :mod:`eightflow.server.front_door` (the ASGI proxy),
  :mod:`eightflow.server.socket_relay` (websockets, whose auth comes in the first message) and
  :mod:`eightflow.server.launcher` (start, probe and stop it).
"""

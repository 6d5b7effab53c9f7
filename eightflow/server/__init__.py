"""The front door: a small reverse proxy in front of the Prefect server that knows two roles.

- :mod:`eightflow.server.credentials`: the admin and runner credentials, and whose a request is;
- :mod:`eightflow.server.runner_policy`: what the runner role may call (an allow-list);
- :mod:`eightflow.server.front_door`: the ASGI proxy and its ``main``;
- :mod:`eightflow.server.socket_relay`: websockets through it (auth in the first message);
- :mod:`eightflow.server.launcher`: start, probe and stop it as a background process.
"""

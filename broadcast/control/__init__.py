"""The control channel of the running daemon: the messages (``protocol``) and the client the
CLI uses (``client``). The daemon's side is :mod:`broadcast.daemon.control`."""

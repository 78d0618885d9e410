"""The daemon around builds: scheduling, the control socket, the HTTP server."""

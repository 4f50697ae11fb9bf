# SPDX-License-Identifier: BSD-3-Clause
# A stand-in for sipredir's management socket, for the tests of sipredirctl: one request line
# in, the text `answer(verb)` gives back out, then the connection closed, as the appliance does.
import socket
import threading


def serve_standin(path, answer):
    """Listens on the UNIX socket `path` and answers each connection's first word with
    answer(verb), from a daemon thread. Returns the listening socket: close it to stop."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                line = b""
                while not line.endswith(b"\n"):
                    chunk = conn.recv(256)
                    if not chunk:
                        break
                    line += chunk
                verb = line.decode().split(" ", 1)[0].strip()
                conn.sendall(answer(verb).encode())

    threading.Thread(target=serve, daemon=True).start()
    return server

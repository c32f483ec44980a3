"""A loopback TCP proxy that can drop every connection it carries and refuse new ones for a while:
what a database restart looks like to a client, without restarting anything.

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/mydb"
        ...
        proxy.outage(seconds=3)   # cut every live connection, refuse new ones for 3 s

Why a proxy and not `pg_ctlcluster restart`: the PostgreSQL cluster on the machine is shared by
every test running in parallel (and by other helpers' sessions); restarting it would fail their runs
too. Seen from our engine, a restart is exactly this: established connections die mid-statement
(the server closes them), and connecting fails with "connection refused" until it is back.
Threads only, standard library only.
"""

from __future__ import annotations

import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._refusing_until = 0.0
        self._closed = threading.Event()
        self._accept_thread: threading.Thread | None = None
        self.cut_connections = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "TcpProxy":
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accept_thread.start()

    def stop(self) -> None:
        self._closed.set()
        self._close_listener()
        self._cut_all()

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted (False during an outage)."""
        return self._listener is not None

    # ------------------------------------------------------------------ trouble
    def outage(self, seconds: float) -> int:
        """Drop every live connection now and refuse connections for `seconds` (the listening
        socket is closed, so clients get ECONNREFUSED, as from a server that is down). Returns
        how many connections were cut. Listening resumes on the same port in the background."""
        self._close_listener()
        cut = self._cut_all()

        def resume() -> None:
            if not self._closed.wait(seconds):
                self._listen()

        threading.Thread(target=resume, daemon=True).start()
        return cut

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def _cut_all(self) -> int:
        with self._lock:
            sockets = list(self._connections)
            self._connections.clear()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.cut_connections += len(sockets) // 2
        return len(sockets) // 2

    # ------------------------------------------------------------------ plumbing
    def _accept(self, listener: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed (outage or stop)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._connections.discard(source)
                self._connections.discard(sink)
            source.close()
            # sink is closed by its own pump thread; closing it twice is harmless
            sink.close()


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; return whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()

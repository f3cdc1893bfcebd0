"""A byte-level QMP client on a plain unix socket.

qemu.qmp hides the wire: it frames messages for us, assigns ids and drops
anything it does not expect. The byte-level tests need the opposite: send
exactly these bytes (half an object, one byte at a time, two objects at once)
and see every line exactly as the server wrote it, `\\r\\n` and key order
included.

    client = RawQMP("/tmp/qf-x/s/vm0.qmp")
    client.negotiate()
    events, reply = client.exchange({"execute": "stop"})
    # events == [{"timestamp": {...}, "event": "STOP"}], reply == {"return": {}}
"""
import json
import socket
import sys
import time

#: How long a read waits for the server before the test fails.
READ_TIMEOUT_SECONDS = 5.0
#: QMP output lines end in CR LF, QEMU's `monitor_puts` framing.
LINE_END = b"\r\n"
#: Python's json module recurses once per nesting level; QMP allows 1024
#: levels (and echoes an id that deep), so raise the interpreter's limit.
JSON_DEPTH_HEADROOM = 20000
sys.setrecursionlimit(max(sys.getrecursionlimit(), JSON_DEPTH_HEADROOM))
#: Marker for "send no id at all" (None would send `"id": null`).
NO_ID = object()


class ProtocolViolation(AssertionError):
    """The server wrote something that is not a QMP output line."""


class RawQMP:
    """One connection; every line received is kept in `lines` for diagnostics."""

    def __init__(self, path, timeout=READ_TIMEOUT_SECONDS):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self._buffer = bytearray()
        self.lines = []
        #: Events read while waiting for a reply, oldest first.
        self.events = []
        self.closed_by_peer = False

    # -- sending ---------------------------------------------------------
    @staticmethod
    def encode(message):
        if isinstance(message, (bytes, bytearray)):
            return bytes(message)
        if isinstance(message, str):
            return message.encode()
        return json.dumps(message).encode()

    def send(self, message):
        """Sends a dict as JSON, or str/bytes exactly as given."""
        self.sock.sendall(self.encode(message))

    def send_bytewise(self, message, pause=0.0):
        """Sends one byte per write() so the server sees every split point."""
        for byte in self.encode(message):
            self.sock.sendall(bytes([byte]))
            if pause:
                time.sleep(pause)

    # -- receiving -------------------------------------------------------
    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete line from {self.path} within {self.timeout}s; "
                               f"buffered {bytes(self._buffer[:200])!r}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError(f"no complete line from {self.path} within {self.timeout}s; "
                               f"buffered {bytes(self._buffer[:200])!r}") from None
        if not chunk:
            self.closed_by_peer = True
            raise ConnectionError(f"{self.path} closed the connection; "
                                  f"buffered {bytes(self._buffer[:200])!r}")
        self._buffer += chunk

    def read_line(self, timeout=None):
        """The next output line, terminator included, exactly as sent."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end + 1])
                del self._buffer[:end + 1]
                self.lines.append(line)
                if not line.endswith(LINE_END):
                    raise ProtocolViolation(f"line does not end in CR LF: {line[-80:]!r}")
                return line
            self._fill(deadline)

    def read_message(self, timeout=None):
        line = self.read_line(timeout)
        try:
            message = json.loads(line)
        except ValueError as error:
            raise ProtocolViolation(f"not JSON ({error}): {line[:200]!r}") from None
        if not isinstance(message, dict):
            raise ProtocolViolation(f"not a JSON object: {line[:200]!r}")
        return message

    def read_reply(self, timeout=None):
        """The next reply (return or error); events before it go to `events`."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            message = self.read_message(max(0.0, deadline - time.monotonic()))
            if "event" in message:
                self.events.append(message)
            else:
                return message

    def take_events(self):
        taken, self.events = self.events, []
        return taken

    def wait_event(self, name, timeout=None):
        """Reads until event `name` arrives; other events stay in `events`."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        for index, event in enumerate(self.events):
            if event["event"] == name:
                return self.events.pop(index)
        while True:
            message = self.read_message(max(0.0, deadline - time.monotonic()))
            if message.get("event") == name:
                return message
            if "event" not in message:
                raise ProtocolViolation(f"unexpected reply while waiting for {name}: {message}")
            self.events.append(message)

    def drain(self, quiet=0.2):
        """Every message that arrives until the line has been quiet for `quiet` s."""
        messages = []
        while True:
            try:
                messages.append(self.read_message(quiet))
            except TimeoutError:
                return messages

    def pending_bytes(self, wait=0.2):
        """Whatever arrives within `wait` seconds, unparsed (b"" if nothing)."""
        deadline = time.monotonic() + wait
        try:
            while True:
                self._fill(deadline)
        except TimeoutError:
            pass
        data, self._buffer = bytes(self._buffer), bytearray()
        return data

    # -- QMP -------------------------------------------------------------
    def greeting(self):
        message = self.read_message()
        if "QMP" not in message:
            raise ProtocolViolation(f"expected the greeting, got {message}")
        return message

    def negotiate(self):
        """Reads the greeting and enters command mode; returns the greeting."""
        greeting = self.greeting()
        reply = self.execute("qmp_capabilities")
        if reply != {"return": {}}:
            raise ProtocolViolation(f"qmp_capabilities failed: {reply}")
        return greeting

    @staticmethod
    def request(command, arguments=None, id=NO_ID):
        message = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        if id is not NO_ID:
            message["id"] = id
        return message

    def execute(self, command, arguments=None, id=NO_ID, timeout=None):
        self.send(self.request(command, arguments, id))
        return self.read_reply(timeout)

    def exchange(self, message, timeout=None):
        """Sends one request; returns (events that came before the reply, reply)."""
        self.take_events()
        self.send(message)
        reply = self.read_reply(timeout)
        return self.take_events(), reply

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""Bad input never closes the connection: QEMU 7.2 answers every problem
in-band (GenericError or CommandNotFound) and the next good request works.
Each test ends with a good request to prove the session survived."""
import pytest

from qmp_raw import RawQMP

#: QEMU's MAX_NESTING: deeper input is refused.
NESTING_LIMIT = 1024
#: Large enough to cross any small buffer, small enough for QEMU's slow
#: lexer (about 350 KB/s here).
BIG_STRING_BYTES = 100_000


def generic(desc):
    return {"error": {"class": "GenericError", "desc": desc}}


def still_works(client):
    assert client.execute("query-name", id="alive") == {"return": {"name": "vm0"}, "id": "alive"}


@pytest.fixture
def session(backend, raw_client):
    client = raw_client(backend.vm())
    client.negotiate()
    return client


MALFORMED = [
    pytest.param(b'{"execute": }', generic("JSON parse error, expecting value"), id="missing-value"),
    pytest.param(b'{"execute": "query-name",}', generic("JSON parse error, expecting value"), id="trailing-comma"),
    pytest.param(b'}', generic("JSON parse error, expecting value"), id="stray-close"),
    pytest.param(b'{"execute":"query-name","id":1,"id":2}', generic("JSON parse error, duplicate key"), id="duplicate-key"),
]


@pytest.mark.parametrize("data, reply", MALFORMED)
def test_malformed_json(session, data, reply):
    session.send(data)
    assert session.read_reply() == reply
    still_works(session)


def test_garbage_between_objects(session):
    session.send(b'{"execute": "query-name"} garbage {"execute": "query-name"}')
    assert session.read_reply() == {"return": {"name": "vm0"}}
    assert session.read_reply() == generic("JSON parse error, invalid keyword 'garbage'")
    assert session.read_reply() == {"return": {"name": "vm0"}}
    still_works(session)


def test_single_quoted_strings_are_json_here(session):
    session.send(b"{'execute': 'query-name', 'id': 'sq'}")
    assert session.read_reply() == {"return": {"name": "vm0"}, "id": "sq"}


def test_blank_lines_get_no_reply(session):
    session.send(b"\n\r\n   \t\n")
    assert session.pending_bytes(0.3) == b""
    still_works(session)


# A bare number or keyword ends only at the next byte (the lexer cannot know
# `42` is complete before it sees what follows), hence the trailing newline.
NOT_AN_OBJECT = [b"[1]", b"[]", b'"text"', b"42\n", b"null\n", b"true\n"]


@pytest.mark.parametrize("data", NOT_AN_OBJECT, ids=lambda d: d.decode().strip())
def test_non_object(session, data):
    session.send(data)
    assert session.read_reply() == generic("QMP input must be a JSON object")
    still_works(session)


def test_bare_scalar_waits_for_a_delimiter(session):
    session.send(b"42")
    assert session.pending_bytes(0.3) == b""
    session.send(b" ")
    assert session.read_reply() == generic("QMP input must be a JSON object")


BAD_ENVELOPE = [
    pytest.param({"execute": 1, "id": 2}, {"id": 2, "error": generic("QMP input member 'execute' must be a string")["error"]},
                 id="execute-number"),
    pytest.param({"execute": ["query-name"]}, generic("QMP input member 'execute' must be a string"), id="execute-array"),
    pytest.param({"execute": None}, generic("QMP input member 'execute' must be a string"), id="execute-null"),
    pytest.param({"arguments": {}}, generic("QMP input lacks member 'execute'"), id="no-execute"),
    pytest.param({}, generic("QMP input lacks member 'execute'"), id="empty-object"),
    pytest.param({"execute": "query-name", "arguments": []}, generic("QMP input member 'arguments' must be an object"),
                 id="arguments-array"),
    pytest.param({"execute": "query-name", "foo": 1}, generic("QMP input member 'foo' is unexpected"), id="extra-member"),
    pytest.param({"execute": "query-name", "control": {}}, generic("QMP input member 'control' is unexpected"),
                 id="control-member"),
    pytest.param({"exec-oob": "query-name"}, generic("QMP input member 'exec-oob' is unexpected"), id="exec-oob"),
]


@pytest.mark.parametrize("message, reply", BAD_ENVELOPE)
def test_bad_envelope(session, message, reply):
    _, got = session.exchange(message)
    assert got == reply
    still_works(session)


def test_unknown_command(session):
    reply = session.execute("no-such-command", id=5)
    assert reply == {"id": 5, "error": {"class": "CommandNotFound",
                                        "desc": "The command no-such-command has not been found"}}
    still_works(session)


ARGUMENT_ERRORS = [
    pytest.param("query-status", {"x": 1}, "Parameter 'x' is unexpected", id="unknown"),
    pytest.param("human-monitor-command", {}, "Parameter 'command-line' is missing", id="missing"),
    pytest.param("human-monitor-command", {"command-line": 5},
                 "Invalid parameter type for 'command-line', expected: string", id="mistyped"),
    pytest.param("human-monitor-command", {"command-line": None},
                 "Invalid parameter type for 'command-line', expected: string", id="null"),
]


@pytest.mark.parametrize("command, arguments, desc", ARGUMENT_ERRORS)
def test_argument_errors(session, command, arguments, desc):
    assert session.execute(command, arguments, id="a") == {"id": "a", "error": {"class": "GenericError", "desc": desc}}
    still_works(session)


def test_missing_arguments_member_is_missing_parameter(session):
    assert session.execute("human-monitor-command") == generic("Parameter 'command-line' is missing")


def read_until_id(client, marker):
    """Replies before the one with id `marker`, which must arrive."""
    replies = []
    while True:
        reply = client.read_reply(timeout=20)
        if reply.get("id") == marker:
            return replies
        replies.append(reply)


def test_nesting_at_the_limit_is_accepted(session):
    deep = [[]]
    for _ in range(NESTING_LIMIT - 3):   # object + id array levels = 1024
        deep = [deep]
    session.send({"execute": "query-name", "id": deep})
    reply = session.read_reply(timeout=20)
    assert reply["return"] == {"name": "vm0"} and reply["id"] == deep


def test_nesting_past_the_limit(session):
    depth = NESTING_LIMIT + 1
    session.send(b"[" * depth + b"]" * depth)
    session.send({"execute": "query-name", "id": "after"})
    replies = read_until_id(session, "after")
    # QEMU refuses the value, then re-synchronises: every leftover `]` is
    # answered on its own. The count is what QEMU 7.2 sends.
    assert replies[0] == generic("JSON nesting depth limit exceeded")
    assert replies[1:] == [generic("JSON parse error, expecting value")] * depth
    still_works(session)


def test_nesting_past_the_limit_inside_a_request(session):
    session.send(b'{"execute": "query-name", "id": ' + b"[" * NESTING_LIMIT + b"]" * NESTING_LIMIT + b"}")
    session.send({"execute": "query-name", "id": "after"})
    replies = read_until_id(session, "after")
    assert replies[0] == generic("JSON nesting depth limit exceeded")
    assert replies[1:] == [generic("JSON parse error, expecting value")] * (NESTING_LIMIT + 1)
    still_works(session)


def test_big_message(session):
    big = "x" * BIG_STRING_BYTES
    reply = session.execute("query-name", id=big, timeout=30)
    assert reply == {"return": {"name": "vm0"}, "id": big}
    reply = session.execute("human-monitor-command", {"command-line": "info status", "bogus": big}, timeout=30)
    assert reply == generic("Parameter 'bogus' is unexpected")
    still_works(session)


def test_split_writes_byte_by_byte(session):
    session.send_bytewise(b'{"execute": "query-status", "id": "split"}')
    reply = session.read_reply()
    assert reply["id"] == "split" and reply["return"]["status"] == "running"
    still_works(session)


def test_request_split_across_newlines(session):
    session.send(b'{"execute":\n"query-name",\r\n "id":\n 9}')
    assert session.read_reply() == {"return": {"name": "vm0"}, "id": 9}


def test_two_objects_on_one_line(session):
    session.send(b'{"execute": "query-name", "id": 1}{"execute": "query-status", "id": 2}\n')
    first, second = session.read_reply(), session.read_reply()
    assert first == {"return": {"name": "vm0"}, "id": 1}
    assert second["id"] == 2 and second["return"]["status"] == "running"


def test_disconnect_mid_message_then_new_client(backend, raw_client):
    path = backend.vm()
    first = raw_client(path)
    first.negotiate()
    first.send(b'{"execute": "query-sta')
    first.close()
    second = raw_client(path)
    # A fresh greeting, and the half message died with its connection: were
    # it still buffered, this request would continue it and fail to parse.
    second.greeting()
    assert second.execute("qmp_capabilities", id="fresh") == {"return": {}, "id": "fresh"}
    still_works(second)

"""Small helpers for the tests that talk through the qemu.qmp library, the way
real Python users do. Every wait has a timeout so a hang fails the test."""
import asyncio

from qemu.qmp import QMPClient

#: How long one library call may take before the test fails.
CALL_TIMEOUT_SECONDS = 5.0


def run(coroutine, timeout=60.0):
    """Runs a test body on a fresh event loop, with an overall time limit."""
    async def bounded():
        return await asyncio.wait_for(coroutine, timeout)
    return asyncio.run(bounded())


async def connect(path, name="test"):
    client = QMPClient(name)
    await asyncio.wait_for(client.connect(path), CALL_TIMEOUT_SECONDS)
    return client


async def execute(client, command, arguments=None, timeout=CALL_TIMEOUT_SECONDS):
    return await asyncio.wait_for(client.execute(command, arguments), timeout)


async def next_event(client, name, timeout=CALL_TIMEOUT_SECONDS):
    """The next event called `name` from the client's default listener."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"no {name} event within {timeout}s")
        event = await asyncio.wait_for(client.events.get(), remaining)
        if event["event"] == name:
            return event


async def no_event(client, wait=0.3):
    """Events that arrive within `wait` seconds (a list, often asserted empty)."""
    seen = []
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return seen
        try:
            seen.append(await asyncio.wait_for(client.events.get(), remaining))
        except asyncio.TimeoutError:
            return seen


async def disconnect_all(clients):
    for client in clients:
        await client.disconnect()

"""The parts of the client that need no socket: positions per channel, backoff, the state
file, URLs and credentials."""

import json
import os
import random

import pytest

from kinto_push_client import Backoff, Position, StateFile, StateFileError
from kinto_push_client import channel_tracker as ct
from kinto_push_client.credentials import Credentials
from kinto_push_client.ws_url import websocket_url

CH = "/buckets/blog/collections/articles"


def subscribed(epoch="e1", offset=5, recovered=True):
    return {"type": "subscribed", "id": "1", "channel": CH, "epoch": epoch, "offset": offset,
            "recovered": recovered}


def event(offset, timestamp=None):
    return {"type": "event", "channel": CH, "offset": offset,
            "timestamp": timestamp if timestamp is not None else 1000 + offset}


def test_live_subscription_starts_at_the_head():
    t = ct.ChannelTracker(CH)
    assert "since" not in t.subscribe_frame("1")
    assert t.check(event(6)) == ct.IGNORE      # before subscribed
    assert t.subscribed(subscribed(offset=5)) is None
    assert t.position == Position("e1", 5, None)
    assert t.check(event(6)) == ct.DELIVER


def test_duplicates_and_holes():
    t = ct.ChannelTracker(CH, Position("e1", 3, 1003))
    assert t.subscribe_frame("1")["since"] == {"epoch": "e1", "offset": 3}
    assert t.subscribed(subscribed(offset=5)) is None
    assert t.position == Position("e1", 3, 1003)   # replay 4..5 follows
    assert t.check(event(3)) == ct.DUPLICATE
    assert t.check(event(5)) == ct.HOLE
    assert t.check(event(4)) == ct.DELIVER
    assert t.handled(event(4)) == Position("e1", 4, 1004)
    assert t.check(event(4)) == ct.DUPLICATE
    assert t.check({"type": "event", "channel": CH, "offset": "5"}) == ct.IGNORE
    t.disconnected()
    assert t.check(event(5)) == ct.IGNORE


def test_not_recovered_resyncs_from_the_last_timestamp_or_zero():
    t = ct.ChannelTracker(CH, Position("e1", 3, 1003))
    t.subscribe_frame("1")
    assert t.subscribed(subscribed(offset=9, recovered=False)) == 1003
    assert t.position == Position("e1", 9, 1003)
    t = ct.ChannelTracker(CH, Position("e1", 0, None))
    t.subscribe_frame("1")
    assert t.subscribed(subscribed(offset=9, recovered=False)) == 0
    # "recovered" in another epoch cannot be: taken as a resync.
    t = ct.ChannelTracker(CH, Position("e1", 3, 1003))
    t.subscribe_frame("1")
    assert t.subscribed(subscribed(epoch="e2", offset=1, recovered=True)) == 1003


def test_backoff_grows_with_jitter_within_bounds():
    b = Backoff(0.5, 4, rng=random.Random(1))
    ceilings = []
    for _ in range(6):
        ceilings.append(b.ceiling())
        assert 0.5 <= b.next() <= ceilings[-1]
    assert ceilings == [0.5, 1, 2, 4, 4, 4]
    b.reset()
    assert b.ceiling() == 0.5
    assert Backoff(2, 2).next() == 2
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_state_file_round_trip_keeps_other_channels_and_mode(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"/buckets/other": {"epoch": "x", "offset": 7, "timestamp": None}}))
    os.chmod(path, 0o640)
    f = StateFile(path)
    assert f.load() == {"/buckets/other": Position("x", 7, None)}
    f.save(CH, Position("e1", 4, 1004))
    assert json.loads(path.read_text()) == {
        "/buckets/other": {"epoch": "x", "offset": 7, "timestamp": None},
        CH: {"epoch": "e1", "offset": 4, "timestamp": 1004}}
    assert path.stat().st_mode & 0o777 == 0o640
    assert StateFile(path).load()[CH] == Position("e1", 4, 1004)
    assert os.listdir(tmp_path) == ["state.json"]   # no temporary file left
    assert StateFile(tmp_path / "missing.json").load() == {}
    (tmp_path / "empty.json").write_text("  \n")
    assert StateFile(tmp_path / "empty.json").load() == {}


@pytest.mark.parametrize("text", ["[]", "{not json", '{"/b": 1}', '{"/b": {"epoch": "", "offset": 1}}',
                                  '{"/b": {"epoch": "e", "offset": -1}}',
                                  '{"/b": {"epoch": "e", "offset": 1, "timestamp": "x"}}'])
def test_a_file_that_is_not_a_state_file_is_refused(tmp_path, text):
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateFileError, match="not a kinto-push tail state file"):
        StateFile(path).load()


def test_websocket_urls():
    assert websocket_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/v1/ws"
    assert websocket_url("https://push.example.com/prefix/") == "wss://push.example.com/prefix/v1/ws"
    assert websocket_url("http://h/v1") == "ws://h/v1/ws"
    assert websocket_url("ws://h:1") == "ws://h:1/v1/ws"
    assert websocket_url("wss://h/custom/ws") == "wss://h/custom/ws"
    with pytest.raises(ValueError):
        websocket_url("ftp://h")


def test_credentials():
    kinto = Credentials(kinto_auth=("alice", "s3cret"))
    assert kinto.auth_frame("1") == {"type": "auth", "id": "1", "token": "Basic YWxpY2U6czNjcmV0"}
    assert kinto.url("ws://h/v1/ws") == "ws://h/v1/ws"
    query = Credentials(token="a.b.c", send="query")
    assert query.url("ws://h/v1/ws") == "ws://h/v1/ws?access_token=a.b.c"
    assert query.auth_frame("1") is None
    assert Credentials().auth_frame("1") is None
    with pytest.raises(ValueError):
        Credentials(token="t", authorization="Basic x")

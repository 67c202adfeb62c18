"""How the relay cuts the outbox into POSTs (relay.take_batch): pure, no database."""

from kinto_push.relay import MAX_EVENTS, take_batch


def rows(*spec):
    """(id, txid, event text or None past the byte bound) from (txid, text) pairs."""
    return [(i, txid, text) for i, (txid, text) in enumerate(spec, start=1)]


def test_groups_follow_transactions_in_order_of_first_id():
    groups, ids = take_batch(rows((7, "a"), (5, "b"), (7, "c"), (9, "d")))
    assert groups == [[b"a", b"c"], [b"b"], [b"d"]]
    assert sorted(ids) == [1, 2, 3, 4] and ids == [1, 3, 2, 4]


def test_a_transaction_cut_by_the_byte_bound_waits_for_the_next_round():
    groups, ids = take_batch(rows((1, "a"), (2, "b"), (2, "c"), (2, None)))
    assert groups == [[b"a"]] and ids == [1]


def test_a_transaction_cut_by_the_event_bound_waits_unless_it_is_alone():
    spec = [(1, "x")] * 10 + [(2, "y")] * (MAX_EVENTS - 10) + [(2, "z")]
    groups, ids = take_batch(rows(*spec))
    assert groups == [[b"x"] * 10] and ids == list(range(1, 11))
    alone = rows(*[(3, "t")] * (MAX_EVENTS + 1))
    groups, ids = take_batch(alone)
    assert [len(g) for g in groups] == [MAX_EVENTS] and ids == list(range(1, MAX_EVENTS + 1))


def test_nothing_waiting():
    assert take_batch([]) == ([], [])

"""The in-process SQLite writer lock survives what FastAPI does to a request transaction: taken on one
worker thread, released on another."""

import threading

from tradeoff.platform.db.engine import _WriterLock


def test_released_on_another_thread_it_is_free_again() -> None:
    lock = _WriterLock()
    taken = threading.Thread(target=lock.__enter__)
    taken.start()
    taken.join()
    released = threading.Thread(target=lock.__exit__)
    released.start()
    released.join()
    got = threading.Event()
    threading.Thread(target=lambda: (lock.__enter__(), got.set())).start()
    assert got.wait(2)


def test_re_entrant_for_its_holder_and_exclusive_for_others() -> None:
    lock = _WriterLock()
    with lock, lock:  # nested on one thread
        other = threading.Event()
        waiter = threading.Thread(target=lambda: (lock.__enter__(), other.set(), lock.__exit__()))
        waiter.start()
        assert not other.wait(0.2)  # held: the other thread waits
    waiter.join(2)
    assert other.is_set()

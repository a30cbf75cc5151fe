"""Long calls release the GIL; the notebook's interrupt (KeyboardInterrupt) and
`Session.interrupt()` stop them, and the session stays usable and unchanged."""

import _thread
import datetime
import threading

import pytest

import ensemble

# One full point-in-time evaluation per week over sixteen years (832 dates): long work,
# stopped early.
LONG = "trend vip from 2010-07-01 to 2026-06-30 every week"


def test_keyboard_interrupt_cancels_and_the_session_stays_usable(session):
    vip = session.evaluate("vip").count
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        session.report(LONG)
    timer.join()
    # Nothing changed: the same date, the same definitions, the same answers.
    assert session.as_of == datetime.date(2026, 6, 30)
    assert session.evaluate("vip").count == vip
    assert session.last.root.names == ["vip"]


def test_interrupt_from_another_thread_raises_cancelled(session):
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.005)

    ticker = threading.Thread(target=tick)
    ticker.start()
    timer = threading.Timer(0.5, session.interrupt)
    timer.start()
    try:
        with pytest.raises(ensemble.CancelledError):
            session.report(LONG)
    finally:
        done.set()
        ticker.join()
        timer.join()
    # The other thread ran while the report did: the GIL was released.
    assert len(ticks) > 10
    assert session.evaluate("clients").count > 0


def test_a_busy_session_refuses_a_second_call(session):
    errors = []

    def second():
        try:
            session.evaluate("vip")
        except ensemble.EnsembleError as error:
            errors.append(error)
        finally:
            session.interrupt()

    timer = threading.Timer(0.3, second)
    timer.start()
    with pytest.raises(ensemble.CancelledError):
        session.report(LONG)
    timer.join()
    assert len(errors) == 1 and "busy" in str(errors[0])

import threading
import time

from resources.commerce_api.rate_limit import AdvertisedLimit, Pacer


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.now += seconds

    def wait(self, event, timeout):
        """Event.wait on the fake clock: a timeout passes instantly."""
        if timeout:
            self.sleep(timeout)
        return event.is_set()


def test_pacer_spends_the_burst_then_spaces_calls_at_the_safe_rate():
    clock = FakeClock()
    pacer = Pacer("detail", rate=2.0, safety=1.0, clock=clock, wait=clock.wait)
    waits = [pacer.acquire() for _ in range(7)]
    # burst 4, one kept in hand -> 3 immediate, then one every 0.5 s
    assert waits[:3] == [0, 0, 0]
    assert all(abs(w - 0.5) < 1e-9 for w in waits[3:])


def test_pacer_follows_an_advertised_rate_change():
    clock = FakeClock()
    pacer = Pacer("detail", rate=2.0, safety=0.9, clock=clock, wait=clock.wait)
    pacer.observe(AdvertisedLimit(replenish_rate=10.0, burst_capacity=20.0, remaining=19.0))
    assert abs(pacer.rate - 9.0) < 1e-9
    assert pacer.capacity == 19.0
    pacer.observe(AdvertisedLimit(replenish_rate=1.0, burst_capacity=2.0, remaining=0.0))
    assert abs(pacer.rate - 0.9) < 1e-9
    # nothing left on the server: the next call waits a full token at the new rate
    assert abs(pacer.acquire() - 1 / 0.9) < 1e-6


def test_penalize_empties_the_bucket():
    clock = FakeClock()
    pacer = Pacer("search", rate=5.0, safety=1.0, clock=clock, wait=clock.wait)
    pacer.penalize()
    assert pacer.acquire() > 0


def test_advertised_limit_parses_gateway_headers_and_ignores_missing_ones():
    limit = AdvertisedLimit.from_headers(
        {"GNCP-GW-RateLimit-Replenish-Rate": "2", "GNCP-GW-RateLimit-Burst-Capacity": "4",
         "GNCP-GW-RateLimit-Remaining": "3"}
    )
    assert limit == AdvertisedLimit(2.0, 4.0, 3.0)
    assert AdvertisedLimit.from_headers({}) is None
    assert AdvertisedLimit.from_headers({"GNCP-GW-RateLimit-Replenish-Rate": "zero"}) is None


def test_a_429_widens_the_safety_margin():
    clock = FakeClock()
    pacer = Pacer("detail", rate=10.0, safety=0.99, clock=clock, wait=clock.wait)
    pacer.penalize()
    assert abs(pacer.rate - 9.7) < 1e-9
    for _ in range(10):
        pacer.penalize()
    assert abs(pacer.rate - 9.0) < 1e-9  # never below 90% of the advertised rate


def test_the_head_of_the_queue_re_times_its_wait_when_the_rate_drops():
    clock = FakeClock()
    pacer = Pacer("detail", rate=10.0, burst=2.0, safety=1.0, clock=clock, wait=clock.wait)
    pacer.acquire()  # the one token of the burst in hand is spent
    waits = []

    def wait(event, timeout):
        waits.append(timeout)
        if len(waits) == 1:
            # while the head waits its 0.1 s, the server halves to 1 req/s and says it is empty
            pacer.observe(AdvertisedLimit(replenish_rate=1.0, burst_capacity=2.0, remaining=0.0))
            return True  # woken early by the rate change
        return clock.wait(event, timeout)

    pacer._wait = wait
    waited = pacer.acquire()
    assert abs(waits[0] - 0.1) < 1e-9
    assert abs(waits[1] - 1.0) < 1e-9  # recomputed at the new rate from an empty bucket
    assert abs(waited - 1.0) < 1e-6


def test_waiters_leave_in_arrival_order_spaced_at_the_rate():
    pacer = Pacer("detail", rate=50.0, burst=2.0, safety=1.0)
    pacer.acquire()
    departures = []
    lock = threading.Lock()

    def call(index):
        pacer.acquire()
        with lock:
            departures.append((time.monotonic(), index))

    threads = []
    for index in range(6):
        thread = threading.Thread(target=call, args=(index,))
        thread.start()
        threads.append(thread)
        time.sleep(0.002)  # arrive in index order
    for thread in threads:
        thread.join()
    assert [index for _, index in departures] == list(range(6))
    gaps = [b[0] - a[0] for a, b in zip(departures, departures[1:])]
    assert min(gaps) > 0.015  # 1/50 s apart, give or take scheduling


def test_the_servers_first_answer_replaces_the_guessed_burst():
    clock = FakeClock()
    pacer = Pacer("detail", rate=2.0, safety=1.0, clock=clock, wait=clock.wait)
    assert [pacer.acquire() for _ in range(3)] == [0, 0, 0]  # the guess: burst 4, one kept in hand
    # The first of them answered: the server has 40 a burst, 37 left, two of ours still on the way.
    pacer.observe(AdvertisedLimit(replenish_rate=20.0, burst_capacity=40.0, remaining=37.0))

    immediate = 0
    while pacer.acquire() == 0:
        immediate += 1
    assert immediate == 37 - 2 - 1  # what is left, less the unanswered two, less the one in hand

    # Later answers only ever lower the count: the server's word on the burst was taken once.
    pacer.observe(AdvertisedLimit(replenish_rate=20.0, burst_capacity=40.0, remaining=39.0))
    assert pacer.acquire() > 0

"""A batch's plan before (or while) it runs: when each contact can first be dialled, and a projection.

Pure: it takes the calling rules, the contacts' numbers and the assumptions, and returns numbers. Two
halves:

* ``FirstDials`` answers, per contact, the first instant the rules allow a dial at or after the start,
  and the reason it waits (or ``now``). It asks the same functions the dialer asks (``is_open`` and
  ``next_open`` of calling_window), once per distinct set of candidate zones: most contacts share a few.
* ``project`` is a small deterministic discrete-event run of the campaign: attempts become ready at their
  first possible dial time (retries after their interval), start when a live-call slot is free and the
  pacing allows, are answered or not by a fixed low-discrepancy sequence matching the assumed answer rate,
  and hold their slot for ring time (+ talk when answered). A start the rules forbid waits for the next
  open second, as the dialer's reschedule does.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from .calling_window import CallingWindow, contact_zones, is_open, next_open, stored_recipient_zones
from .contact_limits import ContactLimit, NumberState
from .retry import RetryConfig

NOW = "now"
OUTSIDE_HOURS = "outside_hours"
BLOCKED_DATE = "blocked_date"
HOLIDAY = "holiday"
SUPPRESSED = "suppressed"  # on the do-not-call list when its first dial comes: the dialer ends it `suppressed`
CONTACT_LIMIT = "contact_limit"  # over its contact limit then: it waits for the window (or ends `contact_limited`)
NO_OPEN_TIME = "no_open_time"  # no second open in every zone of the number: the dialer ends it `error`
WAIT_REASONS: tuple[str, ...] = (OUTSIDE_HOURS, BLOCKED_DATE, HOLIDAY, SUPPRESSED, CONTACT_LIMIT, NO_OPEN_TIME)
UNANSWERED_STATUS = "no-answer"  # how the projection counts an unanswered attempt against retry_on_statuses
_GOLDEN = (math.sqrt(5) - 1) / 2
_ROOT2 = math.sqrt(2) - 1


@dataclass(frozen=True)
class FirstDial:
    """One contact's first possible dial (None: never, within the calling rules' horizon) and why it waits."""

    at: datetime | None
    reason: str
    zone_key: int  # index of its rules in FirstDials.rules (the projection re-checks them)


class FirstDials:
    """The calling rules asked once per distinct (zone set, holiday calendar) at one start instant.

    `window` is the batch's rules (the agent's, overridden by the batch's own); None: bypassed. Each
    number gets them as the dialer does: its candidate zones, and its country's holidays when opted in.
    """

    def __init__(self, window: CallingWindow | None, default_timezone: str | None, start: datetime) -> None:
        self.window = window
        self.default_timezone = default_timezone
        self.start = start
        self.rules: list[tuple[CallingWindow | None, tuple[str, ...]]] = []  # per key: the number's rules, zones
        self._keys: dict[tuple[str | None, tuple[str, ...]], int] = {}
        self._stored: dict[tuple[str | None, str], int] = {}  # (calendar, stored zones) -> key: no lookup at all
        self._answers: dict[int, FirstDial] = {}
        self._open_minutes: dict[tuple[int, int], bool] = {}
        self._closed: dict[int, tuple[float, float | None]] = {}  # key -> (closed from, opens at; None: never)

    def key(self, number: str, stored_zones: str | None = None) -> int:
        """The number's rules; `stored_zones`: its zones as the ingest stored them (`z`), None to look them up
        (the same lookup the ingest makes, for a valid number: a chunk written before the ingest stored them)."""
        window = self.window.for_number(number) if self.window is not None else None
        if window is None:
            ident: tuple[str | None, tuple[str, ...]] = (None, ())
        else:
            stored = stored_zones if stored_zones is not None else contact_zones(number)
            known = self._stored.get((window.holiday_calendar, stored))
            if known is not None:
                return known
            ident = (window.holiday_calendar, stored_recipient_zones(stored, self.default_timezone))
        key = self._keys.get(ident)
        if key is None:
            key = self._keys[ident] = len(self.rules)
            self.rules.append((window, ident[1]))
        if window is not None:
            self._stored[(window.holiday_calendar, stored)] = key
        return key

    def of(self, number: str, stored_zones: str | None = None) -> FirstDial:
        key = self.key(number, stored_zones)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = self._decide(key)
        return answer

    def _decide(self, key: int) -> FirstDial:
        window, zones = self.rules[key]
        if window is None or is_open(window, zones, self.start):
            return FirstDial(self.start, NOW, key)
        when = next_open(window, zones, self.start)
        if when is None:
            return FirstDial(None, NO_OPEN_TIME, key)
        return FirstDial(when, closed_reason(window, zones, self.start), key)

    def open_at(self, key: int, at: datetime) -> datetime | None:
        """The first instant >= `at` a dial under this key's rules is allowed (None: never within the horizon)."""
        moment = self.open_after(key, at.timestamp())
        if moment is None:
            return None
        return at if moment == at.timestamp() else datetime.fromtimestamp(moment, UTC)

    def open_after(self, key: int, moment: float) -> float | None:
        """`open_at` in epoch seconds: the projection asks it for every attempt that waited, so it builds no
        datetime when the memo answers.

        Memoised per UTC minute: every zone's offset is a whole number of minutes and the rules open and
        close on whole minutes of the wall clock, so the answer "open" holds for the whole minute; and a
        closed answer holds for every instant up to the opening it found.
        """
        window, zones = self.rules[key]
        if window is None:
            return moment
        minute = (key, int(moment // 60))
        known = self._open_minutes.get(minute)
        if known is None:
            known = self._open_minutes[minute] = is_open(window, zones, datetime.fromtimestamp(moment, UTC))
        if known:
            return moment
        closed = self._closed.get(key)
        if closed is not None and closed[0] <= moment and (closed[1] is None or moment < closed[1]):
            return closed[1]
        when = next_open(window, zones, datetime.fromtimestamp(moment, UTC))
        opens = when.timestamp() if when is not None else None
        self._closed[key] = (moment, opens)
        return opens


def with_number(
    dial: FirstDial,
    state: NumberState | None,
    limit: ContactLimit | None,
    max_wait: timedelta,
    rules: FirstDials,
) -> FirstDial:
    """The first dial once the number's own item has its say, as the dialer's claim does at that instant.

    The claim comes after the calling rules (a closed window waits before any claim): a number suppressed
    then is never dialled; one over its contact limit waits until its window frees a slot and then for the
    rules to open again, or, when that is more than `max_wait` away, is never dialled (`contact_limited`).
    """
    if dial.at is None or state is None:
        return dial
    if state.suppressed_at(dial.at):
        return FirstDial(None, SUPPRESSED, dial.zone_key)
    frees = limit.frees_at(list(state.attempts)) if limit is not None else None
    if frees is None or frees <= dial.at:
        return dial
    if frees - dial.at > max_wait:
        return FirstDial(None, CONTACT_LIMIT, dial.zone_key)
    return FirstDial(rules.open_at(dial.zone_key, frees), CONTACT_LIMIT, dial.zone_key)


def closed_reason(window: CallingWindow, zones: Sequence[str], at: datetime) -> str:
    """Why the rules are closed at `at`: a blocked date, else a public holiday, on the local date of some
    zone of the number; else the weekly hours."""
    local_dates = {at.astimezone(ZoneInfo(name)).date() for name in zones}
    if any(first <= day <= last for day in local_dates for first, last in window.blocked):
        return BLOCKED_DATE
    if window.holiday_calendar is not None:
        bare = replace(window, blocked=())
        if any(bare.closed_on(day) for day in local_dates):
            return HOLIDAY
    return OUTSIDE_HOURS


@dataclass(frozen=True)
class Assumptions:
    """What the projection cannot know from the batch: each with where it came from (`sources`)."""

    mean_call_seconds: float  # talk time of an answered call (billed)
    answer_rate: float  # share of attempts answered
    price_per_minute: float  # per minute of talk
    ring_seconds: float  # dial to answer, or to giving up: every attempt holds its slot this long
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Capacity:
    live_calls: int  # min(agent's max_concurrent_calls, batch's)
    calls_per_second: float | None  # None: unpaced


@dataclass
class Projection:
    first_dial_at: datetime | None = None
    last_dial_at: datetime | None = None
    completion_at: datetime | None = None
    attempts: int = 0
    answered: int = 0
    retries: int = 0
    never_dialled: int = 0
    peak_live_calls: int = 0
    mean_live_calls: float = 0.0
    talk_seconds: float = 0.0
    cost: float = 0.0


def answered(index: int, attempt: int, rate: float) -> bool:
    """Deterministic and evenly spread: over any run of contacts, the share answered tracks `rate`."""
    return ((index * _GOLDEN + attempt * _ROOT2) % 1.0) < rate


def _retry_minutes(config: RetryConfig | None, attempt: int) -> int | None:
    if config is None or not config.enabled or attempt > config.max_retries:
        return None
    if UNANSWERED_STATUS not in config.retry_on_statuses:
        return None
    intervals = config.retry_intervals_minutes
    return intervals[min(attempt - 1, len(intervals) - 1)]


@dataclass
class NumberLimits:
    """The agent's contact limit as the projection applies it to this batch's retries: each number's earlier
    claims (newest first, only numbers that have any), to which the run adds the attempts it places."""

    limit: ContactLimit
    max_wait: timedelta  # CONTACT_LIMIT_MAX_WAIT_HOURS: a longer wait ends the contact `contact_limited`
    claims: dict[int, list[int]] = field(default_factory=dict)  # contact index -> epoch seconds, newest first


def project(
    dials: Iterable[tuple[int, FirstDial]],
    rules: FirstDials,
    capacity: Capacity,
    assumptions: Assumptions,
    retry: RetryConfig | None,
    limits: NumberLimits | None = None,
) -> Projection:
    """Run the campaign forward: `dials` are (contact index, first dial) pairs, in any order."""
    run = _Run(rules, capacity, assumptions, retry, limits)
    for index, dial in dials:
        run.add(index, dial)
    return run.finish()


class _Run:
    """The discrete-event run behind `project`.

    Ready attempts wait in one heap per zone set (`key`); a heap of each key's first attempt picks the next
    one, so that when the rules refuse a start, the whole key waits for their next opening in one step (a
    campaign over many days would otherwise move every waiting attempt of a closed zone set one by one,
    every night). A heap of live calls' ends gives the free slots.
    """

    def __init__(
        self,
        rules: FirstDials,
        capacity: Capacity,
        assumptions: Assumptions,
        retry: RetryConfig | None,
        limits: NumberLimits | None,
    ) -> None:
        self.rules, self.capacity, self.assumed, self.retry, self.limits = rules, capacity, assumptions, retry, limits
        self.out = Projection()
        self.queues: dict[int, list[tuple[float, int, int]]] = {}  # key -> (ready at, contact index, attempt)
        self.heads: list[tuple[float, int, int, int]] = []  # (when, index, attempt, key) of keys' first; stale skipped
        self.opens: dict[int, float] = {}  # key -> when its rules open again, after they refused a start
        self.live: list[float] = []  # end times of the calls holding a slot
        self.gap = 1.0 / capacity.calls_per_second if capacity.calls_per_second else 0.0
        self.next_start = -math.inf
        self.busy_seconds = 0.0
        self.first = math.inf
        self.last = self.end_max = -math.inf

    def add(self, index: int, dial: FirstDial) -> None:
        if dial.at is None:
            self.out.never_dialled += 1
        else:
            self.queues.setdefault(dial.zone_key, []).append((dial.at.timestamp(), index, 1))

    def _when(self, key: int, ready: float) -> float:
        opens = self.opens.get(key)
        return ready if opens is None or ready > opens else opens

    def _head(self, key: int) -> None:
        """Offer the key's first attempt (an earlier offer for the key is then stale)."""
        queue = self.queues[key]
        if queue:
            ready, index, attempt = queue[0]
            heapq.heappush(self.heads, (self._when(key, ready), index, attempt, key))

    def _push(self, key: int, ready: float, index: int, attempt: int) -> None:
        queue = self.queues.setdefault(key, [])
        heapq.heappush(queue, (ready, index, attempt))
        if queue[0] == (ready, index, attempt):
            self._head(key)

    def _refused(self, key: int, start: float) -> bool:
        """Whether the rules refuse the key's first attempt at `start`: then the key waits for their next
        opening (or, with none within their horizon, that attempt is never dialled)."""
        opens = self.rules.open_after(key, start)
        if opens is not None and opens <= start:
            return False
        if opens is None:
            heapq.heappop(self.queues[key])
            self.out.never_dialled += 1
        else:
            self.opens[key] = opens
        self._head(key)
        return True

    def _under_limit(self, key: int, index: int, attempt: int, start: float) -> bool:
        """A retry's claim against the contact limit (this batch's earlier attempts count): if refused, it
        waits for the window to free a slot, or never happens when that is beyond the longest wait."""
        assert self.limits is not None
        frees = self.limits.limit.frees_at(self.limits.claims.get(index, []))
        if frees is None or frees.timestamp() <= start:
            return True
        heapq.heappop(self.queues[key])
        if frees.timestamp() - start > self.limits.max_wait.total_seconds():
            self.out.retries -= 1  # counted when it was due; it never happens
        else:
            self.queues[key].append((frees.timestamp(), index, attempt))
            heapq.heapify(self.queues[key])
        self._head(key)
        return False

    def _place(self, index: int, attempt: int, key: int, start: float) -> None:
        if self.limits is not None:
            self.limits.claims.setdefault(index, []).insert(0, int(start))
        picked_up = answered(index, attempt, self.assumed.answer_rate)
        hold = self.assumed.ring_seconds + (self.assumed.mean_call_seconds if picked_up else 0.0)
        end = start + hold
        heapq.heappush(self.live, end)
        self.next_start = start + self.gap
        out = self.out
        out.attempts += 1
        if len(self.live) > out.peak_live_calls:
            out.peak_live_calls = len(self.live)
        self.busy_seconds += hold
        if start < self.first:
            self.first = start
        if start > self.last:
            self.last = start
        if end > self.end_max:
            self.end_max = end
        if picked_up:
            out.answered += 1
            out.talk_seconds += self.assumed.mean_call_seconds
            return
        minutes = _retry_minutes(self.retry, attempt)
        if minutes is not None:
            self.out.retries += 1
            self._push(key, end + minutes * 60, index, attempt + 1)

    def finish(self) -> Projection:
        """Start every ready attempt, in order, at the first moment with a free slot and the pacing satisfied."""
        heads, live, pop, limit = self.heads, self.live, heapq.heappop, self.capacity.live_calls
        for key, queue in self.queues.items():
            heapq.heapify(queue)
            self._head(key)
        while heads:
            at, index, attempt, key = pop(heads)
            queue = self.queues[key]
            if not queue or queue[0][1] != index or queue[0][2] != attempt or self._when(key, queue[0][0]) != at:
                continue  # stale: the key's first attempt or its opening changed since
            start = at if at > self.next_start else self.next_start
            while live and live[0] <= start:
                pop(live)
            full = len(live) >= limit
            if full and live[0] > start:
                start = live[0]  # the first call to end frees its slot then
            # Waited (slot, pacing) or a retry: the rules may have closed meanwhile. A refused start takes no
            # slot (the call holding it still ends when it does), and its key waits for the next opening.
            if (start != at or attempt > 1) and self._refused(key, start):
                continue
            if attempt > 1 and self.limits is not None and not self._under_limit(key, index, attempt, start):
                continue
            pop(queue)
            if full:
                pop(live)
            self._place(index, attempt, key, start)
            self._head(key)
        out = self.out
        if out.attempts:
            out.first_dial_at = datetime.fromtimestamp(self.first, UTC)
            out.last_dial_at = datetime.fromtimestamp(self.last, UTC)
            out.completion_at = datetime.fromtimestamp(self.end_max, UTC)
            span = self.end_max - self.first
            out.mean_live_calls = round(self.busy_seconds / span, 2) if span > 0 else float(out.peak_live_calls)
        out.cost = round(out.talk_seconds / 60 * self.assumed.price_per_minute, 4)
        return out


class Histogram:
    """Counts of first possible dial times per `bucket` from `start`, kept as they stream past."""

    def __init__(self, start: datetime, bucket: timedelta) -> None:
        self.start, self.bucket = start, bucket
        self._base, self._width = start.timestamp(), bucket.total_seconds()
        self._counts: dict[int, int] = {}

    def add(self, moment: datetime) -> None:
        slot = int((moment.timestamp() - self._base) // self._width)
        self._counts[slot] = self._counts.get(slot, 0) + 1

    def buckets(self) -> list[tuple[datetime, int]]:
        """Every bucket from the first to the last that holds a dial (empty ones between kept)."""
        if not self._counts:
            return []
        slots = range(min(self._counts), max(self._counts) + 1)
        return [(self.start + self.bucket * slot, self._counts.get(slot, 0)) for slot in slots]


DEFAULT_MEAN_CALL_SECONDS = 60.0
DEFAULT_ANSWER_RATE = 0.6
DEFAULT_PRICE_PER_MINUTE = 0.05
DEFAULT_RING_SECONDS = 20.0


class PlanQuery(BaseModel):
    """`GET /batches/{id}/plan` query parameters: assumptions the caller overrides (unset: history or default)."""

    model_config = ConfigDict(extra="ignore")

    mean_call_seconds: float | None = Field(None, ge=1, le=7200, allow_inf_nan=False)
    answer_rate: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    price_per_minute: float | None = Field(None, ge=0, le=100, allow_inf_nan=False)
    ring_seconds: float | None = Field(None, ge=0, le=600, allow_inf_nan=False)

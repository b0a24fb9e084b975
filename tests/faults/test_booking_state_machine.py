"""Bookings of random group sizes, cancellations and capacity edits, interleaved by
Hypothesis, against programs.services. A model of the waitlist says who must move up."""

import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.enums import Role
from accounts.errors import DomainError
from notifications.models import OutboundMessage
from programs import services
from programs.enums import BookingStatus
from programs.models import Booking, Session
from tests.factories import AgencyFactory, SchoolFactory, member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, staff_of

pytestmark = [pytest.mark.faults]

EXAMPLES = 30
STEPS = 20


class Bookings(RuleBasedStateMachine):
    @initialize(capacity=st.integers(min_value=1, max_value=8))
    def setup(self, capacity):
        self.school, agency = SchoolFactory(), AgencyFactory()
        agreement = active_agreement(agency, self.school)
        self.session = SessionFactory(program=ProgramFactory(agreement=agreement), capacity_seats=capacity)
        self.coordinator = member(agency, Role.COORDINATOR)
        self.staff = staff_of(self.school, 3)
        self.capacity = capacity
        self.waitlist: list[int] = []  # booking ids in the order they joined
        self.live: list[int] = []  # confirmed or waitlisted
        self.promotions = 0

    def _statuses(self) -> dict[int, tuple[str, int]]:
        rows = Booking.objects.filter(session=self.session).values_list("pk", "status", "seats")
        return {pk: (status, seats) for pk, status, seats in rows}

    def _confirmed(self) -> int:
        return sum(seats for status, seats in self._statuses().values() if status == BookingStatus.CONFIRMED)

    def _expected_promotions(self, *, freed: int = 0) -> list[int]:
        """First come, first served, skipping a group that does not fit (the documented rule)."""
        rows = self._statuses()
        free = self.capacity - self._confirmed() + freed
        promoted = []
        for pk in self.waitlist:
            if free <= 0:
                break
            if rows[pk][1] <= free:
                promoted.append(pk)
                free -= rows[pk][1]
        return promoted

    def _check_promotions(self, expected_before: list[int]):
        """``expected_before`` was computed with the new free seats before the service ran."""
        rows = self._statuses()
        promoted = [pk for pk in self.waitlist if rows[pk][0] == BookingStatus.CONFIRMED]
        assert promoted == expected_before, (promoted, expected_before)
        for pk in promoted:
            assert OutboundMessage.objects.filter(dedupe_key=f"booking:{pk}:promoted").exists()
        self.waitlist = [pk for pk in self.waitlist if pk not in promoted]
        self.promotions += len(promoted)

    @rule(seats=st.integers(min_value=1, max_value=5), who=st.integers(min_value=0, max_value=2))
    def book(self, seats, who):
        free = self.capacity - self._confirmed()
        try:
            booking = services.book_session(
                session=Session.objects.get(pk=self.session.pk),
                institution=self.school,
                by=self.staff[who],
                group_name=f"Group of {seats}",
                seats=seats,
            )
        except DomainError:
            assert seats > self.capacity  # the only refusal while the waitlist is on
            return
        assert seats <= self.capacity
        expected = BookingStatus.CONFIRMED if seats <= free else BookingStatus.WAITLISTED
        assert booking.status == expected
        self.live.append(booking.pk)
        if booking.status == BookingStatus.WAITLISTED:
            self.waitlist.append(booking.pk)

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def cancel(self, data):
        pk = data.draw(st.sampled_from(self.live))
        booking = Booking.objects.get(pk=pk)
        was_confirmed = booking.status == BookingStatus.CONFIRMED
        self.live.remove(pk)
        if pk in self.waitlist:
            self.waitlist.remove(pk)
        expected = self._expected_promotions(freed=booking.seats) if was_confirmed else []
        services.cancel_booking(booking=booking, by=booking.booked_by)
        assert Booking.objects.get(pk=pk).status == BookingStatus.CANCELLED
        self._check_promotions(expected)

    @rule(capacity=st.integers(min_value=1, max_value=10))
    def change_capacity(self, capacity):
        confirmed = self._confirmed()
        old, self.capacity = self.capacity, capacity
        expected = self._expected_promotions()
        self.capacity = old
        try:
            services.change_capacity(
                session=Session.objects.get(pk=self.session.pk), capacity_seats=capacity, by=self.coordinator
            )
        except DomainError:
            assert capacity < confirmed  # refused exactly when it would cut confirmed seats
            return
        assert capacity >= confirmed
        self.capacity = capacity
        self._check_promotions(expected)

    @invariant()
    def confirmed_seats_within_capacity(self):
        if not hasattr(self, "session"):
            return
        session = Session.objects.get(pk=self.session.pk)
        confirmed = self._confirmed()
        assert session.capacity_seats == self.capacity
        assert confirmed <= session.capacity_seats
        assert session.confirmed_seats == confirmed  # the counter the lists show

    @invariant()
    def no_waitlisted_group_fits_the_free_seats(self):
        if not hasattr(self, "session"):
            return
        rows = self._statuses()
        free = self.capacity - self._confirmed()
        waiting = [seats for status, seats in rows.values() if status == BookingStatus.WAITLISTED]
        assert all(seats > free for seats in waiting), (free, waiting)
        assert sorted(self.waitlist) == sorted(pk for pk, (status, _) in rows.items() if status == "waitlisted")


@pytest.mark.django_db
def test_confirmed_seats_never_exceed_capacity_and_the_waitlist_moves_in_join_order():
    started = time.monotonic()
    promotions = []

    class Counted(Bookings):
        def teardown(self):
            promotions.append(getattr(self, "promotions", 0))

    run_state_machine_as_test(
        Counted,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(
        f"\nstate machine: {len(promotions)} runs of up to {STEPS} steps, {sum(promotions)} waitlist promotions "
        f"checked against join order, {time.monotonic() - started:.1f} s"
    )
    assert sum(promotions) > 0  # the rule under test was exercised

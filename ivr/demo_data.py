"""Demo customers and orders (``hotline db seed-demo``): enough to try the IVR's order status
(menu 1, then 1, then an order number and #) and VIP routing from a real phone.

Seeding is idempotent and never overwrites: a customer or order already in the database (a
real one with the same number, or the demo's from an earlier run) is kept as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from acd.storage.models import Customer, Order
from ivr.identify import normalise_number

Result = Literal["added", "kept"]


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    number: str
    name: str
    vip: bool
    notes: str


@dataclass(frozen=True, slots=True)
class DemoOrder:
    order_number: str
    customer_number: str
    status: str  # one of ivr.order_status.ORDER_STATUSES
    courier: str | None  # spoken as hotline/<lang>/<slug> (prompts.yaml has these couriers)


CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer("13800138000", "Wang Fang", True, "demo VIP: served first in every queue"),
    DemoCustomer("13900139000", "Chen Ming", False, "demo customer with orders in every state"),
    DemoCustomer("13700137000", "Zhao Li", False, "demo customer, one cancelled order"),
)

ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder("20261123", "13800138000", "shipped", "SF Express"),
    DemoOrder("20261124", "13800138000", "paid", None),
    DemoOrder("20261125", "13900139000", "placed", None),
    DemoOrder("20261126", "13900139000", "shipped", "JD Logistics"),
    DemoOrder("20261127", "13900139000", "completed", "EMS"),
    DemoOrder("20261128", "13700137000", "cancelled", None),
)


@dataclass(frozen=True, slots=True)
class Seeded:
    kind: Literal["customer", "order"]
    key: str
    result: Result
    row: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "result": self.result, **self.row}


def demo_customers(vip_numbers: Iterable[str]) -> tuple[DemoCustomer, ...]:
    """The demo customers, plus the operator's own test phones as VIPs (``--vip NUMBER``)."""
    extra = [
        DemoCustomer(normalise_number(n), "Demo VIP", True, "your test phone, marked VIP")
        for n in vip_numbers
    ]
    known = {c.number for c in CUSTOMERS}
    return (*CUSTOMERS, *(c for c in extra if c.number and c.number not in known))


async def seed_demo(
    session: AsyncSession,
    *,
    now: dt.datetime,
    customers: Sequence[DemoCustomer] = CUSTOMERS,
    orders: Sequence[DemoOrder] = ORDERS,
) -> list[Seeded]:
    """Insert what is missing, keep what is there; one entry per customer and order."""
    done: list[Seeded] = []
    for c in customers:
        row = {"number": c.number, "name": c.name, "vip": c.vip, "notes": c.notes}
        result: Result = "kept"
        if await session.get(Customer, c.number) is None:
            session.add(Customer(**row))
            result = "added"
        done.append(Seeded("customer", c.number, result, row))
    for o in orders:
        row = {
            "order_number": o.order_number,
            "customer_number": o.customer_number,
            "status": o.status,
            "courier": o.courier,
        }
        result = "kept"
        if await session.get(Order, o.order_number) is None:
            session.add(Order(**row, updated_at=now))
            result = "added"
        done.append(Seeded("order", o.order_number, result, row))
    await session.flush()
    return done

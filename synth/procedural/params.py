"""The shared parameter vocabulary: one JSON Schema per parameter name, used by every scenario.

Keeping one definition per name is what makes parameters comparable across platforms (the
same ``delivery_address`` everywhere) and lets the query generator know where a value comes
from: :data:`PROFILE_PARAMS` maps a parameter to the basic feature that fills it when the
request leaves it out (parameter personalization).
"""

from __future__ import annotations

from typing import Any

PAY = ["credit_card", "debit_card", "paypal", "apple_pay", "google_pay", "cash"]
LANG = ["en", "es", "fr", "de", "zh", "ja", "pt", "it"]


def _s(desc: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": desc, **extra}


def _e(desc: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "description": desc, "enum": values}


def _i(desc: str, lo: int = 1, hi: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer", "minimum": lo, "description": desc}
    if hi is not None:
        out["maximum"] = hi
    return out


def _n(desc: str) -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "description": desc}



PARAMS: dict[str, dict[str, Any]] = {
    # identity and contact (profile-filled)
    "full_name": _s("Full name of the user"),
    "passenger_name": _s("Passenger's full name as on the ID"),
    "guest_name": _s("Name the reservation is under"),
    "customer_name": _s("Name for the order"),
    "driver_name": _s("Main driver's full name"),
    "account_holder": _s("Name of the account holder"),
    "email": _s("Email address for confirmations"),
    "organizer_email": _s("Email of the organizer"),
    "from_address": _s("Sender email address"),
    "phone": _s("Contact phone number"),
    "delivery_address": _s("Where to deliver"),
    "pickup_address": _s("Where the courier picks the item up"),
    "billing_address": _s("Billing address"),
    "home_city": _s("City the user lives in"),
    "origin": _s("Departure city"),
    "payment_method": _e("How to pay", PAY),
    "language": _e("Preferred language", LANG),
    "passport_number": _s("Passport number"),
    "dietary_note": _s("Dietary restrictions for the kitchen"),
    # items and free text (query-filled)
    "product_name": _s("Name of the product"),
    "keyword": _s("What to search for"),
    "dish": _s("Dish to order"),
    "restaurant_name": _s("Restaurant name"),
    "title": _s("Title"),
    "event_name": _s("Name of the event"),
    "artist": _s("Artist or band"),
    "topic": _s("Topic or subject"),
    "subject": _s("Subject line"),
    "body": _s("Message text"),
    "message": _s("What to remember"),
    "text": _s("Text to process"),
    "recipient": _s("Recipient email address"),
    "attendees": {"type": "array", "items": {"type": "string"}, "description": "Attendee emails"},
    "destination": _s("Destination city"),
    "city": _s("City"),
    "hotel_name": _s("Hotel name"),
    "service": _s("Service wanted"),
    "payee": _s("Who receives the money"),
    "asset": _s("Ticker or name of the asset"),
    "course_name": _s("Course name"),
    "book_title": _s("Book title"),
    "note": _s("Free-text note"),
    "reason": _s("Why"),
    "query": _s("Search text"),
    "promo_code": _s("Discount code"),
    # numbers, dates, times
    "quantity": _i("How many"),
    "guests": _i("Number of people"),
    "nights": _i("Number of nights"),
    "days": _i("Number of days"),
    "duration_minutes": _i("Length in minutes"),
    "limit": _i("How many results"),
    "stars": _i("Rating from 1 to 5", 1, 5),
    "amount": _n("Amount of money"),
    "max_price": _n("Upper price limit"),
    "date": _s("Date, YYYY-MM-DD", format="date"),
    "check_in": _s("Check-in date, YYYY-MM-DD", format="date"),
    "pickup_date": _s("Pickup date, YYYY-MM-DD", format="date"),
    "due_date": _s("Due date, YYYY-MM-DD", format="date"),
    "time": _s("Time, HH:MM (24h)"),
    "pickup_time": _s("Pickup time, HH:MM (24h)"),
    "remind_at": _s("When, YYYY-MM-DD HH:MM"),
    # enums
    "sort_by": _e("Result ordering", ["relevance", "price_asc", "price_desc", "rating"]),
    "seat_class": _e("Seat class", ["standard", "premium", "vip"]),
    "cabin": _e("Cabin class", ["economy", "premium_economy", "business", "first"]),
    "plan": _e("Subscription plan", ["basic", "standard", "premium", "family"]),
    "priority": _e("Priority", ["low", "medium", "high"]),
    "doc_type": _e("Kind of document", ["text", "spreadsheet", "slides"]),
    "target_language": _e("Language to translate into", LANG),
    "currency": _e("Currency", ["USD", "EUR", "GBP", "JPY", "CNY", "CAD"]),
    "level": _e("Difficulty level", ["beginner", "intermediate", "advanced"]),
    "frequency": _e("How often", ["once", "weekly", "monthly"]),
    "room_type": _e("Room type", ["single", "double", "suite", "family"]),
    "format": _e("Format", ["ebook", "paperback", "audiobook"]),
    "status_filter": _e("Which ones", ["open", "done", "all"]),
    "express": {"type": "boolean", "description": "Pay extra for priority handling"},
    "gift_wrap": {"type": "boolean", "description": "Wrap as a gift"},
    # record ids
    "order_id": _s("Order identifier"),
    "booking_id": _s("Booking identifier"),
    "meeting_id": _s("Meeting identifier"),
    "subscription_id": _s("Subscription identifier"),
    "appointment_id": _s("Appointment identifier"),
    "transfer_id": _s("Transfer identifier"),
    "enrollment_id": _s("Enrollment identifier"),
    "product_id": _s("Product identifier"),
    "restaurant_id": _s("Restaurant identifier"),
    "task_id": _s("Task identifier"),
    "document_id": _s("Document identifier"),
}

PROFILE_PARAMS: dict[str, tuple[str, ...]] = {
    "full_name": ("name",),
    "passenger_name": ("name",),
    "guest_name": ("name",),
    "customer_name": ("name",),
    "driver_name": ("name",),
    "account_holder": ("name",),
    "email": ("email",),
    "organizer_email": ("email",),
    "from_address": ("email",),
    "phone": ("phone",),
    "delivery_address": ("home_address", "work_address"),
    "pickup_address": ("home_address", "work_address"),
    "billing_address": ("home_address",),
    "home_city": ("city",),
    "origin": ("city",),
    "payment_method": ("payment_method",),
    "language": ("language",),
    "passport_number": ("passport_number",),
    "dietary_note": ("dietary_restrictions",),
}
"""Parameter -> basic features that may fill it (the first one unless the request says 'work')."""

RESPONSE_TYPES: dict[str, dict[str, Any]] = {
    "status": {"type": "string"},
    "total_price": {"type": "number"},
    "eta_minutes": {"type": "integer"},
    "balance": {"type": "number"},
    "translation": {"type": "string"},
    "url": {"type": "string"},
}


def response_schema(fields: str) -> dict[str, Any]:
    """``"order_id status total_price results"`` -> an object schema (``*_id`` are strings,
    plural names are arrays of objects)."""
    props: dict[str, Any] = {}
    for name in fields.split():
        if name in RESPONSE_TYPES:
            props[name] = RESPONSE_TYPES[name]
        elif name.endswith("_id"):
            props[name] = {"type": "string"}
        elif name.endswith("s"):
            props[name] = {"type": "array", "items": {"type": "object"}}
        else:
            props[name] = {"type": "object"}
    return {"type": "object", "properties": props, "required": sorted(props)}

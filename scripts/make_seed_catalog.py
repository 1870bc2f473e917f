"""One-off generator of the first (seed) tool catalog: 5 scenarios x 3 platforms x 8 APIs.

The synth pipeline (``ptool synth tools``) grows this to full size in the same format; this script
only exists so the foundation has a real, reviewable catalog. Run: python scripts/make_seed_catalog.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "toolcatalog" / "data" / "catalog"

S = {"type": "string"}
I = {"type": "integer", "minimum": 1}
N = {"type": "number", "minimum": 0}
B = {"type": "boolean"}


def s(desc: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": desc, **extra}


def en(desc: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "description": desc, "enum": values}


def i(desc: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "description": desc}


def n(desc: str) -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "description": desc}


PAY = ["credit_card", "debit_card", "paypal", "apple_pay", "google_pay", "cash"]
LANG = ["en", "es", "fr", "de", "zh", "ja", "pt", "it"]

# Each functionality: (verb-object stem, description, params, required, effect, record, response props)
Func = tuple[str, str, dict[str, Any], list[str], str, str | None, dict[str, Any]]

SCENARIOS: dict[str, dict[str, Any]] = {
    "shopping": {
        "description": "Buying goods online: search, cart, orders, delivery, returns.",
        "platforms": [
            ("MegaMart", {"price level": "mid-range, frequent discounts", "delivery speed": "next-day in cities",
                          "range": "huge general catalog incl. groceries and wine", "audience": "families, bulk buyers"}),
            ("LuxeLane", {"price level": "premium", "delivery speed": "same-day courier",
                          "range": "curated designer fashion, fine wine, gadgets", "audience": "brand-conscious shoppers"}),
            ("ThriftHub", {"price level": "budget, second-hand and refurbished", "delivery speed": "3-7 days",
                           "range": "used electronics, books, vintage clothing", "audience": "students, bargain hunters"}),
        ],
        "funcs": [
            ("search_products", "Search the catalog for products matching a keyword.",
             {"keyword": s("What to search for"), "category": s("Product category"), "max_price": n("Upper price limit"),
              "sort_by": en("Result ordering", ["relevance", "price_asc", "price_desc", "rating"])},
             ["keyword"], "read", None, {"products": {"type": "array", "items": {"type": "object"}}}),
            ("get_product_details", "Get details, price and stock of one product.",
             {"product_id": s("Product identifier")}, ["product_id"], "read", None,
             {"product": {"type": "object"}}),
            ("add_to_cart", "Put a product into the user's cart.",
             {"product_id": s("Product identifier"), "quantity": i("How many")}, ["product_id", "quantity"],
             "create", "cart_item", {"cart_item_id": S, "status": S}),
            ("place_order", "Buy a product and have it delivered.",
             {"product_name": s("Name of the product to buy"), "quantity": i("How many"),
              "delivery_address": s("Where to deliver"), "payment_method": en("How to pay", PAY),
              "phone": s("Contact phone number for the courier")},
             ["product_name", "quantity", "delivery_address", "payment_method"], "create", "order",
             {"order_id": S, "status": S, "total_price": N}),
            ("track_order", "Track the delivery status of an order.",
             {"order_id": s("Order identifier")}, ["order_id"], "lookup", "order",
             {"order_id": S, "status": S}),
            ("cancel_order", "Cancel an order that has not shipped yet.",
             {"order_id": s("Order identifier"), "reason": s("Why the order is cancelled")}, ["order_id"],
             "cancel", "order", {"order_id": S, "status": S}),
            ("list_orders", "List the user's recent orders.",
             {"limit": i("How many orders to show")}, [], "lookup", "order",
             {"orders": {"type": "array", "items": {"type": "object"}}}),
            ("request_return", "Start a return for a delivered order.",
             {"order_id": s("Order identifier"), "reason": s("Why the item is returned"),
              "pickup_address": s("Where the courier picks the item up")},
             ["order_id", "reason", "pickup_address"], "create", "return", {"return_id": S, "status": S}),
        ],
    },
    "takeout": {
        "description": "Ordering food for delivery or pickup from restaurants.",
        "platforms": [
            ("QuickBite", {"price level": "cheap, fast-food focused", "delivery speed": "under 20 minutes",
                           "range": "burgers, pizza, fried chicken chains", "audience": "late-night snackers, students"}),
            ("GourmetGo", {"price level": "premium", "delivery speed": "45-60 minutes",
                           "range": "fine dining, sushi, healthy bowls", "audience": "foodies, office lunches"}),
            ("HomeTaste", {"price level": "moderate", "delivery speed": "30-40 minutes",
                           "range": "home-style cooking, local family restaurants, vegetarian", "audience": "families"}),
        ],
        "funcs": [
            ("search_restaurants", "Find restaurants serving a cuisine or dish.",
             {"query": s("Dish or cuisine"), "area": s("Neighbourhood or address to deliver to"),
              "max_delivery_minutes": i("Longest acceptable delivery time")}, ["query"], "read", None,
             {"restaurants": {"type": "array", "items": {"type": "object"}}}),
            ("get_menu", "Show a restaurant's menu.", {"restaurant_id": s("Restaurant identifier")},
             ["restaurant_id"], "read", None, {"items": {"type": "array", "items": {"type": "object"}}}),
            ("order_food", "Order dishes for delivery.",
             {"dish": s("What to eat"), "quantity": i("Portions"), "delivery_address": s("Where to deliver"),
              "phone": s("Phone for the rider"), "payment_method": en("How to pay", PAY),
              "note": s("Note for the kitchen, e.g. allergies")},
             ["dish", "quantity", "delivery_address", "phone"], "create", "order",
             {"order_id": S, "status": S, "eta_minutes": I}),
            ("schedule_pickup", "Order food to pick up at the restaurant.",
             {"dish": s("What to eat"), "quantity": i("Portions"), "pickup_time": s("HH:MM"),
              "customer_name": s("Name for the order")}, ["dish", "quantity", "pickup_time", "customer_name"],
             "create", "pickup", {"pickup_id": S, "status": S}),
            ("track_delivery", "Track a food order.", {"order_id": s("Order identifier")}, ["order_id"],
             "lookup", "order", {"order_id": S, "status": S}),
            ("cancel_food_order", "Cancel a food order.", {"order_id": s("Order identifier")}, ["order_id"],
             "cancel", "order", {"order_id": S, "status": S}),
            ("rate_restaurant", "Rate a restaurant after a meal.",
             {"restaurant_id": s("Restaurant identifier"), "stars": {"type": "integer", "minimum": 1, "maximum": 5,
                                                                     "description": "1-5"},
              "comment": s("Free text")}, ["restaurant_id", "stars"], "create", "review", {"review_id": S}),
            ("reorder_last", "Repeat the user's most recent order.",
             {"delivery_address": s("Where to deliver")}, ["delivery_address"], "create", "order",
             {"order_id": S, "status": S}),
        ],
    },
    "entertainment": {
        "description": "Streaming music and video, concerts and event tickets.",
        "platforms": [
            ("StreamMax", {"price level": "subscription, mid-range", "content": "blockbuster movies and series",
                           "quality": "4K, multi-language dubbing", "audience": "binge watchers, families"}),
            ("IndieWave", {"price level": "cheap, pay-what-you-want", "content": "indie films, podcasts, niche music",
                           "quality": "HD", "audience": "students, art lovers"}),
            ("LiveStage", {"price level": "premium", "content": "concert, theatre and sports tickets",
                           "quality": "VIP seating options", "audience": "event-goers"}),
        ],
        "funcs": [
            ("search_content", "Search movies, shows, music or events.",
             {"title": s("Title or keyword"), "genre": s("Genre"), "language": en("Preferred language", LANG)},
             ["title"], "read", None, {"results": {"type": "array", "items": {"type": "object"}}}),
            ("play_content", "Start playing a title.",
             {"title": s("What to play"), "language": en("Audio language", LANG),
              "subtitles": en("Subtitle language", LANG)}, ["title", "language"], "read", None,
             {"session_id": S, "status": S}),
            ("buy_ticket", "Buy tickets for an event.",
             {"event_name": s("Event"), "quantity": i("Number of tickets"), "seat_class": en("Seat class", ["standard", "premium", "vip"]),
              "email": s("Where the e-tickets are sent"), "payment_method": en("How to pay", PAY)},
             ["event_name", "quantity", "email", "payment_method"], "create", "booking",
             {"booking_id": S, "status": S, "total_price": N}),
            ("subscribe_plan", "Subscribe to a plan.",
             {"plan": en("Plan", ["basic", "standard", "premium", "family"]), "email": s("Account email"),
              "payment_method": en("How to pay", PAY)}, ["plan", "email", "payment_method"], "create",
             "subscription", {"subscription_id": S, "status": S}),
            ("cancel_subscription", "Cancel a subscription.", {"subscription_id": s("Subscription identifier")},
             ["subscription_id"], "cancel", "subscription", {"subscription_id": S, "status": S}),
            ("add_to_watchlist", "Save a title for later.", {"title": s("Title")}, ["title"], "create",
             "watchlist_item", {"item_id": S, "status": S}),
            ("get_recommendations", "Recommendations for the user.",
             {"genre": s("Genre"), "mood": s("Mood"), "limit": i("How many")}, [], "read", None,
             {"results": {"type": "array", "items": {"type": "object"}}}),
            ("list_bookings", "List the user's tickets.", {}, [], "lookup", "booking",
             {"bookings": {"type": "array", "items": {"type": "object"}}}),
        ],
    },
    "work": {
        "description": "Productivity: meetings, documents, tasks, email and translation.",
        "platforms": [
            ("OfficeSuite", {"price level": "enterprise licence", "integration": "deep calendar and email integration",
                             "range": "documents, spreadsheets, meetings", "audience": "corporate employees"}),
            ("TaskFlow", {"price level": "free tier, cheap pro", "integration": "kanban boards, reminders",
                          "range": "tasks and lightweight notes", "audience": "freelancers, students"}),
            ("GlobalDesk", {"price level": "mid-range", "integration": "translation and time zones",
                            "range": "international meetings, translation, travel-aware calendar",
                            "audience": "remote and international teams"}),
        ],
        "funcs": [
            ("schedule_meeting", "Schedule a meeting and invite people.",
             {"title": s("Meeting title"), "date": s("YYYY-MM-DD"), "time": s("HH:MM"),
              "duration_minutes": i("Length"), "attendees": {"type": "array", "items": S, "description": "Emails"},
              "organizer_email": s("Organizer's email"), "timezone": s("IANA time zone")},
             ["title", "date", "time", "organizer_email"], "create", "meeting", {"meeting_id": S, "status": S}),
            ("cancel_meeting", "Cancel a meeting.", {"meeting_id": s("Meeting identifier")}, ["meeting_id"],
             "cancel", "meeting", {"meeting_id": S, "status": S}),
            ("create_task", "Create a to-do item.",
             {"title": s("Task"), "due_date": s("YYYY-MM-DD"), "priority": en("Priority", ["low", "medium", "high"])},
             ["title"], "create", "task", {"task_id": S, "status": S}),
            ("list_tasks", "List open tasks.", {"status": en("Filter", ["open", "done", "all"])}, [], "lookup",
             "task", {"tasks": {"type": "array", "items": {"type": "object"}}}),
            ("send_email", "Send an email.",
             {"to": s("Recipient email"), "subject": s("Subject"), "body": s("Body"),
              "from_address": s("Sender email")}, ["to", "subject", "body", "from_address"], "create", "email",
             {"message_id": S, "status": S}),
            ("create_document", "Create a document.",
             {"title": s("Title"), "doc_type": en("Kind", ["text", "spreadsheet", "slides"]),
              "language": en("Document language", LANG)}, ["title", "doc_type"], "create", "document",
             {"document_id": S, "status": S}),
            ("translate_text", "Translate a text.",
             {"text": s("Text to translate"), "target_language": en("Target", LANG),
              "source_language": en("Source", LANG)}, ["text", "target_language"], "read", None,
             {"translation": S}),
            ("set_reminder", "Set a reminder.",
             {"message": s("What to remember"), "remind_at": s("YYYY-MM-DD HH:MM"), "phone": s("Phone for SMS")},
             ["message", "remind_at"], "create", "reminder", {"reminder_id": S, "status": S}),
        ],
    },
    "travel": {
        "description": "Flights, hotels, trains and car rental.",
        "platforms": [
            ("SkyJet", {"price level": "premium, full-service", "speed": "direct flights, fast check-in",
                        "range": "flights and airport lounges worldwide", "audience": "business travellers"}),
            ("BackpackerBase", {"price level": "budget", "speed": "slow, many connections",
                                "range": "hostels, buses, low-cost flights", "audience": "young backpackers"}),
            ("ComfortStay", {"price level": "mid-range", "speed": "flexible cancellation",
                             "range": "hotels, trains, rental cars, family packages", "audience": "families, leisure"}),
        ],
        "funcs": [
            ("search_flights", "Search flights.",
             {"origin": s("From city"), "destination": s("To city"), "date": s("YYYY-MM-DD"),
              "cabin": en("Cabin", ["economy", "premium_economy", "business", "first"])},
             ["origin", "destination", "date"], "read", None,
             {"flights": {"type": "array", "items": {"type": "object"}}}),
            ("book_flight", "Book a flight.",
             {"flight_id": s("Flight identifier"), "passenger_name": s("Full name"), "passport_number": s("Passport"),
              "email": s("For the boarding pass"), "payment_method": en("How to pay", PAY)},
             ["flight_id", "passenger_name", "email", "payment_method"], "create", "booking",
             {"booking_id": S, "status": S, "total_price": N}),
            ("search_hotels", "Search hotels.",
             {"city": s("City"), "check_in": s("YYYY-MM-DD"), "nights": i("Nights"), "max_price": n("Per night")},
             ["city", "check_in"], "read", None, {"hotels": {"type": "array", "items": {"type": "object"}}}),
            ("book_hotel", "Book a hotel room.",
             {"hotel_name": s("Hotel"), "check_in": s("YYYY-MM-DD"), "nights": i("Nights"),
              "guest_name": s("Full name"), "phone": s("Contact phone"), "payment_method": en("How to pay", PAY)},
             ["hotel_name", "check_in", "nights", "guest_name", "phone"], "create", "booking",
             {"booking_id": S, "status": S, "total_price": N}),
            ("book_train", "Book a train ticket.",
             {"origin": s("From"), "destination": s("To"), "date": s("YYYY-MM-DD"), "passenger_name": s("Full name"),
              "seat_class": en("Class", ["second", "first"])}, ["origin", "destination", "date", "passenger_name"],
             "create", "booking", {"booking_id": S, "status": S}),
            ("rent_car", "Rent a car.",
             {"city": s("Pickup city"), "pickup_date": s("YYYY-MM-DD"), "days": i("Days"),
              "driver_name": s("Full name"), "phone": s("Phone")}, ["city", "pickup_date", "days", "driver_name"],
             "create", "booking", {"booking_id": S, "status": S}),
            ("get_booking", "Look up a booking.", {"booking_id": s("Booking identifier")}, ["booking_id"],
             "lookup", "booking", {"booking_id": S, "status": S}),
            ("cancel_booking", "Cancel a booking.", {"booking_id": s("Booking identifier")}, ["booking_id"],
             "cancel", "booking", {"booking_id": S, "status": S}),
        ],
    },
}

# Platforms expose functionally similar but not identical APIs: their own naming style and one
# platform-specific optional parameter.
STYLES = [
    (lambda stem: "".join(w.capitalize() if k else w for k, w in enumerate(stem.split("_")))),  # camelCase
    (lambda stem: stem),  # snake_case
    (lambda stem: "".join(w.capitalize() for w in stem.split("_"))),  # PascalCase
]
EXTRA = [
    ("promo_code", s("Discount code, if any")),
    ("express", {"type": "boolean", "description": "Pay extra for priority handling"}),
    ("notes", s("Free-text notes")),
]


def build_api(stem: str, desc: str, params: dict[str, Any], required: list[str], effect: str,
              record: str | None, resp: dict[str, Any], k: int, platform: str) -> dict[str, Any]:
    props = dict(params)
    if effect == "create":
        key, spec = EXTRA[k]
        props[key] = spec
    name = STYLES[k](stem)
    # Unique within a scenario: prefix with the platform so tool lists never collide.
    name = f"{platform}_{name}"
    api: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{desc} ({platform})",
            "parameters": {"type": "object", "properties": props, "required": required},
            "response": {"type": "object", "properties": resp, "required": sorted(resp)},
        },
        "effect": effect,
    }
    if record:
        api["record"] = record
    return api


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, spec in SCENARIOS.items():
        platforms = []
        for k, (pname, profile) in enumerate(spec["platforms"]):
            apis = [build_api(*f, k=k, platform=pname) for f in spec["funcs"]]
            platforms.append({"name": pname, "profile": profile, "apis": apis})
        doc = {"format_version": 1, "name": name, "description": spec["description"], "unseen": False,
               "platforms": platforms}
        (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        print("wrote", OUT / f"{name}.json")


if __name__ == "__main__":
    main()

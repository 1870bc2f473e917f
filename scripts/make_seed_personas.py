"""One-off writer of the hand-written seed personas (until `ptool synth world` replaces them).

Run: python scripts/make_seed_personas.py -> profiles/data/personas.json
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "profiles" / "data" / "personas.json"

PERSONAS = [
    ("u-alice", "alice", {"name": "Alice Moreau", "gender": "female", "age": 41, "occupation": "lawyer",
      "email": "alice.moreau@example.com", "phone": "+1-415-555-0101", "home_address": "12 Ocean Ave, San Francisco",
      "work_address": "400 Market St, San Francisco", "city": "San Francisco", "language": "fr",
      "payment_method": "credit_card"},
     {"shopping": [("LuxeLane", "bought a bottle of premium Bordeaux wine"), ("LuxeLane", "ordered a silk scarf from a designer brand"),
                   ("LuxeLane", "bought champagne for an anniversary"), ("MegaMart", "bought laundry detergent in bulk")],
      "takeout": [("GourmetGo", "ordered a sushi platter for two"), ("GourmetGo", "ordered a healthy quinoa bowl at the office")],
      "entertainment": [("LiveStage", "bought VIP tickets for the opera"), ("StreamMax", "watched a French drama series")],
      "work": [("OfficeSuite", "scheduled a client meeting with calendar invite"), ("OfficeSuite", "created a contract document")],
      "travel": [("SkyJet", "booked a business class flight to Paris"), ("SkyJet", "used the airport lounge in London")]}),
    ("u-bob", "bob", {"name": "Bob Lee", "gender": "male", "age": 21, "occupation": "student",
      "email": "bob.lee@example.edu", "phone": "+1-617-555-0199", "home_address": "5 Dorm Rd, Boston",
      "city": "Boston", "language": "en", "payment_method": "debit_card"},
     {"shopping": [("ThriftHub", "bought a used textbook on calculus"), ("ThriftHub", "bought a refurbished laptop"),
                   ("ThriftHub", "bought a vintage denim jacket"), ("MegaMart", "bought cheap instant noodles")],
      "takeout": [("QuickBite", "ordered a double cheeseburger at midnight"), ("QuickBite", "ordered a large pepperoni pizza"),
                  ("QuickBite", "ordered fried chicken wings")],
      "entertainment": [("IndieWave", "listened to an indie rock podcast"), ("IndieWave", "watched an indie documentary")],
      "work": [("TaskFlow", "created a task to finish the homework"), ("TaskFlow", "set a reminder for the exam")],
      "travel": [("BackpackerBase", "booked a hostel bed in Montreal"), ("BackpackerBase", "booked an overnight bus to New York")]}),
    ("u-carmen", "carmen", {"name": "Carmen Diaz", "gender": "female", "age": 35, "occupation": "nurse",
      "email": "carmen.diaz@example.com", "phone": "+34-600-555-123", "home_address": "Calle Mayor 8, Madrid",
      "work_address": "Hospital La Paz, Madrid", "city": "Madrid", "language": "es", "payment_method": "paypal",
      "dietary_restrictions": "vegetarian"},
     {"shopping": [("MegaMart", "bought groceries for the week"), ("MegaMart", "bought diapers in bulk"),
                   ("MegaMart", "bought a bottle of house red wine with the groceries")],
      "takeout": [("HomeTaste", "ordered vegetarian lasagna for the family"), ("HomeTaste", "ordered lentil soup")],
      "entertainment": [("StreamMax", "watched an animated movie with the kids"), ("StreamMax", "subscribed to the family plan")],
      "work": [("TaskFlow", "created a shift schedule task")],
      "travel": [("ComfortStay", "booked a family hotel room in Valencia"), ("ComfortStay", "rented a car for a weekend trip")]}),
    ("u-dmitri", "dmitri", {"name": "Dmitri Volkov", "gender": "male", "age": 48, "occupation": "engineering manager",
      "email": "dmitri.v@example.com", "phone": "+49-30-555-0177", "home_address": "Hauptstrasse 3, Berlin",
      "work_address": "Alexanderplatz 1, Berlin", "city": "Berlin", "language": "de", "payment_method": "credit_card"},
     {"shopping": [("MegaMart", "bought a power drill"), ("LuxeLane", "bought noise cancelling headphones")],
      "takeout": [("GourmetGo", "ordered a team lunch of poke bowls")],
      "entertainment": [("StreamMax", "watched a sci-fi series in German")],
      "work": [("GlobalDesk", "scheduled a meeting across three time zones"), ("GlobalDesk", "translated a spec into English"),
               ("GlobalDesk", "scheduled a call with the Tokyo office")],
      "travel": [("SkyJet", "booked a flight to Tokyo"), ("ComfortStay", "booked a hotel near the conference venue")]}),
    ("u-emi", "emi", {"name": "Emi Tanaka", "gender": "female", "age": 27, "occupation": "illustrator",
      "email": "emi.tanaka@example.jp", "phone": "+81-90-5555-0134", "home_address": "2-1 Shibuya, Tokyo",
      "city": "Tokyo", "language": "ja", "payment_method": "apple_pay"},
     {"shopping": [("ThriftHub", "bought second-hand art books"), ("LuxeLane", "bought a premium drawing tablet"),
                   ("ThriftHub", "bought a vintage film camera")],
      "takeout": [("HomeTaste", "ordered ramen from a family shop"), ("QuickBite", "ordered a late-night burger")],
      "entertainment": [("IndieWave", "watched an indie animation festival stream"), ("LiveStage", "bought tickets for a jazz concert")],
      "work": [("TaskFlow", "created a task board for a commission")],
      "travel": [("BackpackerBase", "booked a hostel in Seoul"), ("BackpackerBase", "booked a low-cost flight to Taipei")]}),
    ("u-femi", "femi", {"name": "Femi Adeyemi", "gender": "male", "age": 33, "occupation": "sommelier",
      "email": "femi.a@example.com", "phone": "+44-20-5555-0162", "home_address": "77 Baker St, London",
      "work_address": "1 Wine Bar Lane, London", "city": "London", "language": "en", "payment_method": "google_pay"},
     {"shopping": [("LuxeLane", "bought a case of vintage Burgundy wine"), ("LuxeLane", "bought crystal wine glasses"),
                   ("MegaMart", "bought a corkscrew and cheese")],
      "takeout": [("GourmetGo", "ordered a tasting menu")],
      "entertainment": [("LiveStage", "bought tickets for a West End show")],
      "work": [("OfficeSuite", "created a wine list spreadsheet")],
      "travel": [("SkyJet", "booked a flight to Bordeaux for a wine fair")]}),
]


def main() -> None:
    start = datetime(2026, 1, 5, 18, 0)
    users = []
    for k, (uid, username, features, history) in enumerate(PERSONAS):
        events = []
        n = 0
        for scenario, items in history.items():
            for platform, action in items:
                ts = start + timedelta(days=3 * n + k, hours=n % 7)
                events.append({"scenario": scenario, "platform": platform, "action": action,
                               "timestamp": ts.isoformat()})
                n += 1
        users.append({"id": uid, "username": username, "basic_features": features, "history": events})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"format_version": 1, "users": users}, indent=1, ensure_ascii=False) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()

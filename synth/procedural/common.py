"""API-tree parts every scenario shares: the account/support area and platform-trait extras.

Real platforms differ beyond their core functions: a premium platform offers a concierge, a
budget one a deals page, a fast one live delivery slots. Deriving those extra leaves from the
platform's traits keeps each platform at about 24 APIs without hand-writing 72 per scenario.
"""

from __future__ import annotations

from synth.procedural.spec import FuncSpec as F

ACCOUNT_AREA: tuple[F, ...] = (
    F(
        "update_contact_info",
        "Update the email and phone on the account.",
        "email! phone!",
        "create",
        "account_change",
        "account_change_id status",
    ),
    F(
        "contact_support",
        "Open a support ticket.",
        "topic! body! email!",
        "create",
        "ticket",
        "ticket_id status",
    ),
    F("get_notifications", "Recent notifications for the user.", "limit", response="notifications"),
    F("get_help_article", "Search the help centre.", "query!", response="articles"),
)

PRICE_EXTRAS: dict[str, tuple[F, ...]] = {
    "premium": (
        F(
            "request_concierge",
            "Ask a personal concierge for help.",
            "body! phone!",
            "create",
            "concierge_request",
            "concierge_request_id status",
        ),
        F(
            "join_membership",
            "Join the premium membership.",
            "plan! email! payment_method!",
            "create",
            "membership",
            "membership_id status",
        ),
    ),
    "mid": (
        F("get_loyalty_points", "Loyalty points balance.", "email!", response="balance"),
        F(
            "redeem_points",
            "Redeem loyalty points.",
            "amount! email!",
            "create",
            "redemption",
            "redemption_id status",
        ),
    ),
    "budget": (
        F("find_deals", "Current deals and discounts.", "query! max_price", response="deals"),
        F("validate_coupon", "Check a discount code.", "promo_code!", response="status"),
    ),
}

SPEED_EXTRAS: dict[str, tuple[F, ...]] = {
    "fast": (
        F("check_express_slots", "Express slots available today.", "city! date", response="slots"),
        F("get_live_eta", "Live arrival estimate.", "query!", response="status"),
    ),
    "medium": (
        F("get_service_hours", "Opening and service hours.", "city!", response="hours"),
        F(
            "subscribe_updates",
            "Subscribe to news and offers.",
            "email! topic",
            "create",
            "newsletter",
            "newsletter_id status",
        ),
    ),
    "slow": (
        F("estimate_wait", "Estimate how long it takes.", "city! query", response="status"),
        F(
            "join_waitlist",
            "Join the waitlist for an item or slot.",
            "query! email!",
            "create",
            "waitlist",
            "waitlist_id status",
        ),
    ),
}

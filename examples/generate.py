"""Generate the synthetic example NPS export (seeded; re-running gives the same files).

    python examples/generate.py [OUT_DIR] [N]  # writes nps_survey.csv and nps_survey_truth.csv

The data imitate a B2B SaaS relationship NPS survey plus a transactional post-support survey:
scores skewed like real NPS, two open-text questions, comments of varied length and style
(typos, multi-topic, one-word answers, empty, a few non-English) and segment columns.
The truth file lists the areas and types the generator used for each comment.

Two events from examples/roadmap.yaml are built in, so `themer validate` has something to find:
the automation launch (users of automation score one point higher from LAUNCH_DATE) and the
sync fix (before FIX_DATE, 40% of bug reports are about reliability instead of their own area;
from FIX_DATE, 80% of the reliability bug reports become reliability praise). Both
draw only from their own random stream, so every other column is unchanged by them.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 20261125
LAUNCH_DATE = date(2025, 6, 2)  # workflow builder v2, for automation users
FIX_DATE = date(2025, 7, 15)  # sync data-loss fix (reliability bugs)
FIXED_AREA = "reliability"
N_RESPONSES = 2000
HERE = Path(__file__).resolve().parent

# area -> (things people name, features they ask for, expectations they had)
AREAS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "onboarding": (["the onboarding", "the setup process", "getting started"],
                   ["an onboarding checklist", "a guided setup for new teams"],
                   ["setup would take a day, it took us a month"]),
    "performance": (["the app", "loading dashboards", "the board view"],
                    ["faster load times on big projects", "a lighter mode for slow laptops"],
                    ["it would handle our volume without slowing down"]),
    "reliability": (["the sync", "saving changes", "the service"],
                    ["a status page with real uptime numbers", "offline backups"],
                    ["99.9% uptime, we had three outages this quarter"]),
    "search": (["search", "the search bar", "finding old tasks"],
               ["search inside attachments", "saved searches with filters"],
               ["search would cover comments too"]),
    "reporting": (["the dashboards", "reporting", "the custom reports"],
                  ["scheduled reports", "more chart types", "custom dashboards for execs"],
                  ["reporting to be included in the pro plan"]),
    "integrations": (["the Slack integration", "the Jira sync", "the Salesforce connector"],
                     ["a HubSpot integration", "a native Teams integration", "two-way Jira sync"],
                     ["the Salesforce integration to sync custom objects"]),
    "api": (["the API", "the webhooks", "the rate limits"],
            ["webhooks for status changes", "a GraphQL API", "higher API rate limits"],
            ["the API to be part of our plan, it's an add-on"]),
    "billing": (["the pricing", "the per-seat pricing", "the invoices"],
                ["a cheaper plan for small teams", "annual billing in euros"],
                ["the price to stay the same at renewal"]),
    "mobile": (["the mobile app", "the iPhone app", "the Android app"],
               ["offline mode on mobile", "a proper tablet layout"],
               ["the mobile app to have the same features as web"]),
    "notifications": (["the email notifications", "the alerts", "the daily digest"],
                      ["per-project notification settings", "a weekly summary email"],
                      ["to only get notified about my own tasks"]),
    "permissions": (["user management", "the admin console", "permissions"],
                    ["custom roles", "SCIM provisioning", "read-only guest access"],
                    ["SSO to be included, not an enterprise add-on"]),
    "collaboration": (["commenting", "sharing with clients", "real-time editing"],
                      ["guest access for clients", "@mentions in documents"],
                      ["to share boards with clients for free"]),
    "data_import_export": (["the CSV import", "exporting to Excel", "the data export"],
                           ["a full data export", "bulk import from Asana"],
                           ["migration from our old tool to be done for us"]),
    "ui_navigation": (["the interface", "the navigation", "the menus"],
                      ["dark mode", "keyboard shortcuts", "a compact view"],
                      ["the new design to be easier, it's harder"]),
    "documentation": (["the help center", "the documentation", "the tutorials"],
                      ["video tutorials", "docs for the newer features"],
                      ["the docs to match the current UI"]),
    "support": (["your support team", "customer support", "our account manager"],
                ["phone support", "24/7 chat support"],
                ["a dedicated CSM on the business plan"]),
    "security": (["the security features", "the audit log", "two-factor login"],
                 ["SOC 2 reports", "EU data residency", "audit logs"],
                 ["HIPAA compliance out of the box"]),
    "automation": (["the automations", "the workflow rules", "the templates"],
                   ["more automation triggers", "recurring task templates"],
                   ["automations to be unlimited on our plan"]),
}
TYPE_TEMPLATES: dict[str, list[str]] = {
    "bug": ["{thing} is broken again", "{thing} keeps failing with an error",
            "since the last update {thing} doesn't work at all", "{thing} crashed twice this week",
            "{thing} randomly stops working and we lose changes"],
    "feature_request": ["please add {feature}", "it would be great to have {feature}",
                        "we really need {feature}", "would love {feature}",
                        "what would change my score: {feature}"],
    "ux_friction": ["{thing} is clunky and takes too many clicks", "{thing} is confusing",
                    "it takes forever to figure out {thing}",
                    "{thing} is hard to use for new people on the team"],
    "misaligned_expectation": ["we were promised {promise}", "I expected {promise}",
                               "sales told us {promise}", "we assumed {promise}"],
    "preference": ["I prefer the old version of {thing}", "I don't like the new look of {thing}",
                   "personally I'd rather {thing} looked like before"],
    "praise": ["{thing} is great", "love {thing}", "{thing} works really well for us",
               "really happy with {thing}", "{thing} is excellent"],
}
TYPE_VALENCE = {"bug": -2.5, "feature_request": -0.6, "ux_friction": -1.5,
                "misaligned_expectation": -2.0, "preference": -0.4, "praise": 1.6}
ONE_WORD = [("great", "praise"), ("love it", "praise"), ("ok", "other"), ("meh", "other"),
            ("expensive", "other"), ("n/a", "other"), ("good", "praise"), ("fine", "other")]
NON_ENGLISH = ["El informe es muy lento y el soporte no responde.",
               "Die Integration mit Salesforce funktioniert nicht.",
               "Très bon produit, mais trop cher pour une petite équipe.",
               "Ottimo strumento, lo usiamo ogni giorno."]
CONTEXT = ["we use it for client projects", "we're a team of about 40", "been using it for two years",
           "we switched from spreadsheets last year"]
PLANS = [("free", 0.15, -0.3), ("pro", 0.4, 0.0), ("business", 0.3, 0.2), ("enterprise", 0.15, 0.1)]
ROLES = ["admin", "manager", "individual contributor", "executive", "developer"]
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+"]
FEATURES = ["dashboards", "integrations", "mobile", "automation"]


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 8 or rng.random() > 0.15:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def _statement(rng: random.Random, area: str, kind: str) -> str:
    things, features, promises = AREAS[area]
    template = rng.choice(TYPE_TEMPLATES[kind])
    return template.format(thing=rng.choice(things), feature=rng.choice(features),
                           promise=rng.choice(promises))


def _compose(rng: random.Random, mood: float, events: random.Random, fixed: bool
             ) -> tuple[str, list[str], list[str], float]:
    """A comment: (text, areas, types, valence). Mood tilts which types appear; before the fix
    many bug reports are about reliability, after it (``fixed``) most of those become praise."""
    style = rng.random()
    if style < 0.06:
        word, kind = rng.choice(ONE_WORD)
        return word, [], [kind], 1.0 if kind == "praise" else 0.0
    if style < 0.08:
        return rng.choice(NON_ENGLISH), [], [], 0.0
    n_statements = rng.choices([1, 2, 3], weights=[0.5, 0.35, 0.15])[0]
    parts, areas, types, valence = [], [], [], 0.0
    for _ in range(n_statements):
        area = rng.choice(list(AREAS))
        weights = {k: max(0.05, 1 + (TYPE_VALENCE[k] * mood) / 2) for k in TYPE_TEMPLATES}
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        statement = _statement(rng, area, kind)
        if not fixed and kind == "bug" and area != FIXED_AREA and events.random() < 0.4:
            area, statement = FIXED_AREA, _statement(events, FIXED_AREA, "bug")
        elif fixed and area == FIXED_AREA and kind == "bug" and events.random() < 0.8:
            kind, statement = "praise", _statement(events, area, "praise")
        parts.append(statement)
        areas.append(area)
        types.append(kind)
        valence += TYPE_VALENCE[kind]
    if rng.random() < 0.1:
        parts.append(rng.choice(CONTEXT))
        types.append("other")
    glue = rng.choice([". ", ", and ", ". Also ", "; "])
    if len(parts) == 2 and rng.random() < 0.4:
        glue = ", but "
    text = glue.join(parts)
    text = text[0].upper() + text[1:] + rng.choice([".", "", "!", "..."])
    return _typo(rng, text), areas, types, valence


def main(out_dir: Path = HERE, n_responses: int = N_RESPONSES) -> None:
    rng = random.Random(SEED)
    # Behaviour columns draw from their own stream: adding them changed no other column.
    behaviour = random.Random(SEED + 1)
    events = random.Random(SEED + 2)
    rows, truth = [], []
    start = date(2025, 1, 1)
    for i in range(n_responses):
        survey_type = "relationship" if rng.random() < 0.85 else "transactional"
        plan, _, plan_shift = rng.choices(PLANS, weights=[p[1] for p in PLANS])[0]
        signup = start - timedelta(days=rng.randrange(30, 900))
        responded = start + timedelta(days=rng.randrange(0, 330))
        mood = rng.gauss(0.3 + plan_shift, 1.0)
        comments = {"reason": ("", [], [], 0.0), "improve": ("", [], [], 0.0)}
        valence = 0.0
        if rng.random() > 0.1:
            comments["reason"] = _compose(rng, mood, events, responded >= FIX_DATE)
            valence += comments["reason"][3]
        if rng.random() < 0.35:
            comments["improve"] = _compose(rng, min(mood, 0.0) - 0.5, events,
                                           responded >= FIX_DATE)
            valence += 0.3 * comments["improve"][3]
        latent = 7.6 + 1.2 * mood + 0.45 * valence + rng.gauss(0, 0.8)
        score = max(0, min(10, round(latent)))
        rid = f"R{i + 1:05d}"
        adoption = {f"uses_{f}": int(rng.random() < p) for f, p in
                    zip(FEATURES, (0.7, 0.45, 0.3, 0.35), strict=True)}
        if adoption["uses_automation"] and responded >= LAUNCH_DATE:
            score = min(10, score + 1)
        rows.append({
            "response_id": rid, "responded_at": responded.isoformat(), "score": score,
            "reason": comments["reason"][0], "improve": comments["improve"][0],
            "survey_type": survey_type, "plan": plan, "role": rng.choice(ROLES),
            "company_size": rng.choice(SIZES),
            "cohort": f"{signup.year}-Q{(signup.month - 1) // 3 + 1}",
            "signup_date": signup.isoformat(), **adoption,
            # Happier customers log in more and activated sooner (effect sizes are invented).
            "weekly_logins": max(0, round(behaviour.gauss(3.0 + 1.5 * mood, 2.0))),
            "days_to_activation": max(1, round(behaviour.gauss(14.0 - 4.0 * mood, 6.0))),
        })
        for question, (_, areas, types, _) in comments.items():
            if areas or types:
                truth.append({"response_id": rid, "question": question,
                              "areas": ";".join(dict.fromkeys(areas)),
                              "types": ";".join(dict.fromkeys(types))})
    for name, data in (("nps_survey.csv", rows), ("nps_survey_truth.csv", truth)):
        with (out_dir / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(data[0]))
            writer.writeheader()
            writer.writerows(data)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE,
         int(sys.argv[2]) if len(sys.argv) > 2 else N_RESPONSES)

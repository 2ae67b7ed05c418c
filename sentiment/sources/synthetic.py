"""The "synthetic" source: a seeded generator of labelled, airline-customer-style tweets.

Everything here (airlines, templates, vocabulary, handles) was written for this project; no real
tweet is copied. The generator is meant to stand in for a real labelled tweet corpus when the
pipeline runs offline, and to be something a BERT model can learn from: the label follows from the
wording, but not trivially (sarcasm, negation, slang, typos, emoji that sometimes disagree, label
noise).

Determinism: the same :class:`SyntheticSpec` gives byte-identical output in any process. Randomness
comes only from :class:`random.Random` instances seeded with strings derived from ``spec.seed``
(string seeds are hashed with SHA-512 by :mod:`random`, not with :func:`hash`). Separate streams
drive texts, timestamps, label noise and duplicates, so e.g. changing ``label_noise`` changes labels
only, never ids or texts.

Usage::

    from sentiment.sources.synthetic import SyntheticSpec, generate_synthetic
    for record in generate_synthetic(SyntheticSpec(count=100, seed=1)):
        ...

Each record is a dict with the keys ``id, text, created_at, label, author, lang, topic`` (all str).
Texts are HTML-escaped the way the Twitter/X API delivers them (``&amp;``, ``&lt;``, ``&gt;``).
"""

from __future__ import annotations

import calendar
import csv
import json
import math
import re
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from pathlib import Path
from random import Random

__all__ = [
    "SYNTHETIC_FIELDS",
    "SYNTHETIC_LABELS",
    "SyntheticSpec",
    "generate_synthetic",
    "write_synthetic_csv",
    "write_synthetic_jsonl",
]

SYNTHETIC_LABELS = ("negative", "neutral", "positive")
# Column order of the CSV writer (and key order of every record).
SYNTHETIC_FIELDS = ("id", "text", "created_at", "label", "author", "lang", "topic")
MAX_TWEET_CHARS = 280


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate. Every field has a default, so ``SyntheticSpec()`` is a valid spec."""

    count: int = 3000  # number of rows (duplicates included)
    seed: int = 13
    start: datetime = datetime(2026, 1, 5)  # naive UTC; rows fall in [start, start + days)
    days: int = 7
    label_noise: float = 0.04  # share of unique tweets whose label is flipped to another class
    duplicate_rate: float = 0.0  # share of rows that repeat an earlier row (same id, same values)

    def __post_init__(self) -> None:
        def bad(name: str, value: object, rule: str) -> ValueError:
            return ValueError(f"SyntheticSpec.{name} must be {rule}, got {value!r}")

        if not _is_int(self.count) or self.count < 0:
            raise bad("count", self.count, "an integer >= 0")
        if not _is_int(self.seed):
            raise bad("seed", self.seed, "an integer")
        if not isinstance(self.start, datetime):
            raise bad("start", self.start, "a datetime")
        if not _is_int(self.days) or self.days < 1:
            raise bad("days", self.days, "an integer >= 1")
        if not _is_real(self.label_noise) or not 0 <= self.label_noise < 0.5:
            raise bad("label_noise", self.label_noise, "a number in [0, 0.5)")
        if not _is_real(self.duplicate_rate) or not 0 <= self.duplicate_rate < 1:
            raise bad("duplicate_rate", self.duplicate_rate, "a number in [0, 1)")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


# --------------------------------------------------------------------------------------------
# Vocabulary (all made up for this project)
# --------------------------------------------------------------------------------------------

# name (the record's topic), handle (without @), flight-number code, loyalty programme,
# share of all tweets, share of its tweets that are negative (the rest split 55:45 neutral:positive).
_AIRLINES = (
    ("SkyLark Air", "SkyLarkAir", "SL", "LarkMiles", 0.25, 0.70),
    ("BlueHeron Airways", "BlueHeronAir", "BH", "Heron Club", 0.20, 0.65),
    ("Northwind Airlines", "NorthwindAir", "NW", "Northwind Points", 0.18, 0.58),
    ("CoralJet", "CoralJet", "CJ", "CoralRewards", 0.15, 0.55),
    ("Pinecrest Airways", "PinecrestAir", "PC", "Evergreen Miles", 0.12, 0.50),
    ("Solstice Air", "FlySolstice", "SX", "Solstice Plus", 0.10, 0.47),
)
_NEUTRAL_SHARE_OF_REST = 0.55

_CITIES = (
    "Denver", "Chicago", "Boston", "Seattle", "Atlanta", "Dallas", "Houston", "Phoenix", "Miami",
    "Orlando", "Las Vegas", "San Diego", "Portland", "Austin", "Nashville", "New Orleans",
    "Philadelphia", "Charlotte", "Detroit", "Minneapolis", "Salt Lake City", "Newark", "Baltimore",
    "Tampa", "Raleigh", "Kansas City", "St. Louis", "Pittsburgh", "Cleveland", "Honolulu",
    "Anchorage", "Toronto", "Vancouver", "Montreal", "Mexico City", "Cancun", "London", "Dublin",
    "Paris", "Amsterdam", "Reykjavik", "Madrid", "Lisbon", "Tokyo", "San Juan", "Albuquerque",
)
_AIRPORTS = (
    "DEN", "ORD", "BOS", "SEA", "ATL", "DFW", "IAH", "PHX", "MIA", "MCO", "LAS", "SAN", "PDX",
    "AUS", "BNA", "MSY", "PHL", "CLT", "DTW", "MSP", "SLC", "EWR", "BWI", "TPA", "RDU", "MCI",
    "STL", "PIT", "CLE", "HNL", "LAX", "SFO", "JFK", "LGA", "DCA", "YYZ", "LHR", "DUB", "CUN",
)
_FIRST_NAMES = (
    "Jess", "Mike", "Priya", "Carlos", "Emma", "Liam", "Aisha", "Noah", "Sofia", "Ethan", "Mia",
    "Lucas", "Zoe", "Omar", "Hannah", "Diego", "Chloe", "Ben", "Grace", "Ravi", "Leah", "Sam",
    "Nina", "Tyler", "Maya", "Jordan", "Ava", "Kevin", "Lena", "Marcus", "Ellie", "Jamal", "Tara",
    "Owen", "Rosa", "Drew", "Kira", "Felix", "Dana", "Hugo", "Ivy", "Theo", "Amara", "Cole",
)
_LAST_NAMES = (
    "smith", "nguyen", "patel", "garcia", "kim", "brown", "lopez", "wright", "okafor", "silva",
    "murphy", "chen", "rossi", "walsh", "baker", "khan", "reyes", "fox", "moreau", "hayes",
    "novak", "ortiz", "bell", "sato", "grant", "lund", "price", "webb", "quinn", "boyd",
)
_HANDLE_WORDS = (
    "travels", "jets", "flyer", "wanders", "runs", "coffee", "miles", "nomad", "adventures",
    "skies", "photo", "eats", "beats", "mom", "dad", "writes", "codes", "fit", "outdoors",
    "roams", "hikes", "reads", "plays", "goes", "atlarge", "onthego", "abroad", "daily",
)
_CREW_ROLES = (
    "flight attendant", "FA", "gate agent", "pilot", "captain", "purser", "crew", "agent",
    "cabin crew", "ground staff",
)
_BAGS = (
    "my bag", "my suitcase", "my luggage", "my checked bag", "my guitar", "my stroller",
    "our car seat", "my golf clubs", "my duffel", "both our bags", "my carry-on",
)
_CARRY_ITEMS = (
    "a guitar", "a small dog", "a car seat", "a garment bag", "my CPAP machine", "a skateboard",
    "a backpack and a purse", "a cooler", "baby formula", "a laptop bag", "a cat",
)
_SPORTS_ITEMS = ("surfboard", "golf bag", "bike", "pair of skis", "snowboard", "kayak paddle")
_FOOD_ITEMS = (
    "chicken wrap", "pasta", "cheese plate", "pretzel pack", "coffee", "breakfast sandwich",
    "cookie", "veggie bowl", "hot chocolate", "snack box", "curry", "omelette",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_PAST = (
    "today", "yesterday", "this morning", "last night", "tonight", "this afternoon",
    "on Sunday", "on Friday", "earlier today",
)
_DAY_FUTURE = ("tomorrow", "next week", "on Friday", "this weekend", "next month", "on Monday")
_DAY_NOUNS = ("day", "week", "weekend", "birthday", "anniversary", "vacation", "whole trip")
_MONTHS = ("November", "October", "December", "last month", "the summer", "September")
_EXCLAIMS = {"negative": ("!", "!!", "."), "neutral": (".", "", "!"), "positive": ("!", "!!", ".")}

# Sentiment-bearing decoration. Emoji mostly match the label; _EMOJI_CROSS ones can go anywhere.
_EMOJI = {
    "negative": ("😡", "😠", "😤", "🙄", "😒", "👎", "😩", "😭", "🤬", "💩", "😑", "🤦", "😞"),
    "neutral": ("✈️", "🤔", "🙂", "🙏", "🧳", "📱", "❓", "🛫"),
    "positive": ("😍", "❤️", "👍", "🙏", "😊", "🙌", "💙", "✈️", "🎉", "😁", "🥰", "👏", "💯"),
}
_EMOJI_CROSS = ("😂", "✈️", "🙃", "😅", "😳")
_EMOJI_ONLY = {
    "negative": ("😡", "😤", "🙄", "👎", "😭", "🤬", "😒"),
    "neutral": ("🤔", "✈️", "❓"),
    "positive": ("😍", "❤️", "👍", "🙏", "🙌", "🥰"),
}
_EMOTICONS = {
    "negative": (":(", ">:(", ":/", ":-(", "-_-"),
    "neutral": (":)", ":-)", ":P"),
    "positive": (":)", ":D", "<3", ":-)", "<3 <3", "^_^"),
}
_HASHTAGS = {
    "negative": (
        "#fail", "#NeverAgain", "#customerservice", "#worstairline", "#delayed", "#stranded",
        "#epicfail", "#travel", "#smh", "#disappointed", "#lostluggage", "#brokenpromises",
    ),
    "neutral": (
        "#travel", "#question", "#help", "#baggage", "#flying", "#businesstravel", "#avgeek",
        "#traveltips", "#roadtrip",
    ),
    "positive": (
        "#happy", "#travel", "#thankyou", "#greatservice", "#loveflying", "#customerservice",
        "#vacation", "#bestcrew", "#winning", "#avgeek", "#grateful",
    ),
}
_URL_CHARS = string.ascii_letters + string.digits

# How often each decoration is applied, per label.
_P_EMOJI_ONLY = {"negative": 0.012, "neutral": 0.004, "positive": 0.014}
_P_OPENER = {"negative": 0.22, "neutral": 0.25, "positive": 0.2}
_P_CLOSER = {"negative": 0.42, "neutral": 0.3, "positive": 0.42}
_P_EMOJI = {"negative": 0.34, "neutral": 0.12, "positive": 0.5}
_P_EMOTICON = {"negative": 0.04, "neutral": 0.02, "positive": 0.07}
_P_HASHTAG = {"negative": 0.24, "neutral": 0.12, "positive": 0.24}
_P_CAPS_WORD = {"negative": 0.14, "neutral": 0.02, "positive": 0.07}
_P_CAPS_ALL = {"negative": 0.025, "neutral": 0.0, "positive": 0.01}
_P_ELONGATE = {"negative": 0.14, "neutral": 0.04, "positive": 0.16}
_P_URL = 0.08
_P_EXTRA_MENTION = 0.07
_P_TYPO = 0.07
_P_CASUAL = 0.45
_P_NEWLINE = 0.06
_P_AUTHOR_REGULAR = 0.3  # share of tweets written by one of a pool of frequent tweeters
_REGULAR_AUTHORS = 250

# Tweets per clock hour (UTC), relative: quiet at night, busy in the daytime.
_HOUR_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.6, 3.8, 3.8,
    3.7, 3.6, 3.6, 3.7, 3.8, 3.9, 3.8, 3.5, 3.0, 2.5, 2.0, 1.5,
)

# --------------------------------------------------------------------------------------------
# Templates. Slots in {braces} are filled per tweet (see _SLOTS); a slot used twice in one
# template gets the same value. The airline is addressed by its @handle, added around the text.
# --------------------------------------------------------------------------------------------

_TEMPLATES = {
    "negative": (
        "flight {flight} delayed {delay} and nobody at the gate can tell us why",
        "{delay} on the tarmac in {city} with no water and no explanation. unacceptable",
        "great, another {hours} hour delay. thanks a lot",
        "love spending my {day_noun} stuck at gate {gate} because your crew didn't show up",
        "you lost {bag} AGAIN. third time this year",
        "{bag} went to {city2} and I went to {city}. how does that even happen",
        "been on hold for {mins} minutes. is anyone actually working today?",
        "cancelled {flight} {day} and rebooked me for {weekday}?? {wtf}",
        "not happy. paid {amount} for a seat with \"extra legroom\" and my knees are in my chest",
        "never again. {flight} was the worst travel experience of my life",
        "gate changed from {gate} to {gate2} with zero announcement and now I missed my connection",
        "your app crashed {n} times while I tried to check in. please fix it",
        "still waiting on my refund of {amount} from {month}. {n} emails, zero replies",
        "the wifi on {flight} never worked but you still charged me for it",
        "the {crew_role} on {flight} was incredibly rude to an elderly passenger. not ok",
        "sat in {seat} next to a broken toilet for {delay}. thanks for nothing",
        "overbooked {flight} and bumped me even though I checked in {hours} hours early",
        "missed my connection in {city} because of your delay and now there's nothing until tomorrow",
        "{loyalty} points from my last {n} trips still haven't posted. member for {n2} years btw",
        "no food, no water, no updates. {delay} late and counting",
        "customer service hung up on me. twice. {day}",
        "why does it take {mins} minutes to get bags off a plane at {airport}",
        "oh wonderful, {flight} cancelled again. really loving the {name} experience",
        "paid for an upgrade on {flight} and got put in a middle seat. I want my {amount} back",
        "\"weather delay\" my foot, the sky over {city} is perfectly clear",
        "agent at {airport} said \"not my problem\" when I asked about {bag}",
        "the {food} on {flight} was stale and cost {small_amount}. {smh}",
        "kiosk at {airport} is broken, the line is {big_n} people long and there's one agent. {wtf}",
        "{bag} came out of baggage claim at {airport} in pieces. who do I even talk to",
        "{n2} hours of my life I'll never get back. {flight} from {city} was a disaster",
        "can't believe you charge {small_amount} for a carry-on now. ridiculous",
        "promised us a voucher for the {hours} hour delay, got nothing. typical",
        "your website keeps logging me out and I can't change my flight {smh}",
        "stuck in {city} overnight and you won't cover a hotel? seriously?",
        "plane was filthy, crumbs everywhere and {seat} wouldn't recline",
        "not impressed. the {crew_role} ignored the call button the whole flight",
        "thanks for making me miss my sister's wedding. {flight} delayed {delay}",
        "what a joke. {flight} boarded {mins} minutes late and then sat at the gate for another hour",
        "{n} flights with you this month and every single one delayed. done",
        "the chat bot is useless and the phone line says \"high call volume\" for {delay}",
        "you moved me from business to economy on {flight} without telling me. want a refund",
        "tried to redeem {points} miles and every date is \"unavailable\". what's the point of {loyalty}",
        "nobody at the {airport} desk knows anything. at all.",
        "I will never fly {name} again after {day}",
        "seriously?? {hours} hours late & not even an apology",
        "bag fees & seat fees & now a fee to talk to a human. unreal",
        "{flight} to {city}: delayed, then gate change, then cancelled. {lol} what a day",
        "your {crew_role} told me to \"calm down\" when I asked when we'd leave. not helpful",
        "my seat was broken and nobody cared. {n2} hour flight like that",
        "rebooked me on a flight that leaves {n3} hours later. how is that a solution",
        "why is the {time} flight ALWAYS late? every week the same thing",
        "I've been a {loyalty} member for {n2} years and this is how you treat me?",
        "my {mins} minute layover in {city} turned into an overnight stay. zero help",
        "ran to gate {gate} only to find out it moved to {gate2}. no one told us",
        "{bad_clause} and {bad_clause2}. again",
        "{flight}: {bad_clause}, {bad_clause2}. {smh}",
        "{bad_clause}. {bad_clause2}. and you wonder why people complain",
    ),
    "neutral": (
        "what's the baggage allowance for {route}?",
        "is flight {flight} on time {day_future}?",
        "can I bring {carry_item} as a carry-on on {flight}?",
        "how early should I get to {airport} for an international flight?",
        "do you have wifi on the {city} to {city2} route?",
        "hi, I need to move my flight from {weekday} to {weekday2}. what's the fee?",
        "does {loyalty} status carry over to next year?",
        "when does online check-in open for {flight}?",
        "is there a lounge at {airport} for {loyalty} members?",
        "flying {route} {day_future}. does the {time} flight usually leave on time?",
        "how do I add my {loyalty} number to a booking I already made?",
        "what gate does {flight} leave from at {airport}?",
        "are pets allowed in the cabin on flights to {city}?",
        "can I pick my seat for free or is that only for {loyalty} members?",
        "{idk} if my bag made the connection in {city}, is there a way to track it?",
        "just sent you a DM with my confirmation number, please take a look when you can",
        "do you serve meals on {flight} or should I grab food at {airport}?",
        "what's the policy on traveling with a {sports_item}?",
        "heading to {city} on {weekday}. is the {time} flight full?",
        "is the app down or is it just me? can't see my boarding pass",
        "how many {loyalty} miles do I need for a round trip to {city}?",
        "will {flight} be affected by the storm in {city}?",
        "any plans to add direct flights from {city} to {city2}?",
        "traveling with my {n}-month-old. do you allow strollers at the gate?",
        "can someone confirm my seat on {flight} was changed to {seat}?",
        "please follow back so I can DM you about my reservation",
        "what's the cutoff for checking bags at {airport}?",
        "does my ticket include a checked bag or just a carry-on?",
        "I have a credit of {amount} from a cancelled flight, how do I use it?",
        "is it possible to upgrade to first on {flight} at the gate?",
        "on {flight} now, the pilot says we're holding for weather in {city}",
        "landed in {city}. bags are on carousel {n}",
        "flying {name} to {city} for the first time {day_future}",
        "not sure if I need a visa for my layover in {city}, who should I ask?",
        "quick question about {loyalty} & partner airlines: do miles transfer?",
        "booked {route} for {weekday}. do I need to print my boarding pass?",
        "does {flight} have power outlets at the seats?",
        "what terminal do you use at {airport}?",
        "how long do refunds usually take? asking for {flight} on {weekday}",
        "is there a number I can call about a group booking for {big_n} people?",
        "my name is misspelled on my ticket for {flight}, how do I fix that?",
        "are you still flying {route} in {month2}?",
        "can I use {points} {loyalty} points toward a seat upgrade?",
        "if my flight is delayed more than {hours} hours, am I owed anything?",
        "just checked in for {flight}. see you at gate {gate}",
    ),
    "positive": (
        "shoutout to {crew} on {flight}, best {crew_role} ever",
        "thanks for getting me to {city} early! smooth flight",
        "crew on {flight} was amazing, they even found my phone under {seat}",
        "wasn't bad at all! landed {small_n} minutes early and bags came out fast",
        "not the worst flight I've taken, honestly pretty comfy. {flight} crew was great",
        "free upgrade to first on {flight}?? {omg} you made my {day_noun}",
        "love that the wifi actually works on {flight}. got all my work done",
        "agent at {airport} rebooked me in two minutes after my connection was cancelled. lifesaver",
        "{crew} at gate {gate} went above and beyond for my elderly mom. thank you",
        "no delays, no drama, just a great flight from {city} to {city2}",
        "refund of {amount} showed up in {n} days. didn't expect that, thanks",
        "best customer service call I've ever had. {mins} minutes and everything was fixed",
        "the new app is so much better, check-in took {small_n} seconds",
        "can't complain, {flight} was on time and the snacks were good",
        "{loyalty} points posted right away and I just booked a free trip to {city}",
        "the pilot on {flight} pulled off the smoothest landing in a storm. respect",
        "got bumped but the {amount} voucher & hotel more than made up for it",
        "never had a better flight. {name} you nailed it",
        "the {food} on {flight} was actually delicious",
        "first time flying {name} and I'm impressed. comfy seats and friendly crew",
        "thanks for holding the plane in {city} for our connection, we made it!",
        "{seat} had so much legroom, worth every penny",
        "quick response from your team over DM, issue solved. appreciate it",
        "{bag} was delivered to my hotel in {city} within hours. thank you!",
        "the kids got wings from the pilot and won't stop talking about it",
        "{name} never disappoints. {flight} on time as always",
        "smooth check-in at {airport}, friendly staff, on-time departure. perfect",
        "could not have asked for a better crew on {flight}",
        "{hours} hour delay but the crew handled it so well I honestly didn't mind",
        "you guys rock! made it to {city} in time for the wedding",
        "{crew} at the gate moved us to seats together for our honeymoon. {omg}",
        "wow, {mins} minutes from landing to bags in hand at {airport}. impressive",
        "the {crew_role} on {flight} noticed it was my birthday and brought me dessert",
        "no complaints at all about {route}, easiest trip I've had all year",
        "just hit {loyalty} gold status! see you on board {day_future}",
        "so glad I switched to {name}. {n} flights this month and zero problems",
        "the captain on {flight} gave us a tour of the cockpit after landing. {omg} so cool",
        "lost my wallet at {airport} and your staff tracked it down in an hour. heroes",
        "{good_clause} and {good_clause2}. great trip",
        "{flight}: {good_clause}, {good_clause2}. thank you",
        "{good_clause}, {good_clause2} and we landed in {city} on time",
    ),
}

_OPENERS = {
    "negative": (
        "{omg}", "ugh.", "seriously?", "unbelievable.", "{tbh}", "hey", "wow.", "so", "umm",
        "{wtf}", "hello??", "great.", "well", "not again.",
    ),
    "neutral": ("hi,", "hey", "hello!", "quick question:", "hi there,", "hey there,", "question:", "good morning,"),
    "positive": ("wow", "{omg}", "just wanted to say", "hey", "honestly", "yay", "ok", "aww"),
}
_CLOSERS = {
    "negative": (
        "never again.", "unacceptable.", "{smh}", "do better.", "so frustrated.",
        "worst airline.", "just ridiculous.", "{wtf}", "I'm done.", "not happy.",
        "absolute joke.", "sort it out.", "please respond.", "this is not ok.", "{lol} what a mess",
        "thanks for nothing.", "#fail", "still waiting.", "I want a refund.", "embarrassing.",
    ),
    "neutral": (
        "thanks!", "thanks in advance", "please advise", "any info helps", "just wondering",
        "appreciate it", "thank you", "cheers", "thx", "thanks for the help",
    ),
    "positive": (
        "thanks!", "will fly again!", "you guys rock", "10/10", "customer for life",
        "love it", "keep it up", "made my day", "so happy", "thank you {name}!",
        "well done.", "best airline.", "{lol} I'm spoiled now", "appreciate you.",
    ),
}

# Hard cases, so the label is learnable but not given away by the template alone.
# 1) Ambiguous tweets: the same wording is read differently by different people. Each has
#    relative weights (negative, neutral, positive); given the tweet's label, one is drawn with
#    probability proportional to its weight for that label.
_AMBIGUOUS = (
    ("just landed in {city}", (0.3, 1.0, 0.8)),
    ("well that was a flight", (1.0, 0.3, 0.7)),
    ("{flight} delayed {delay}. guess I'll grab a coffee", (1.0, 0.8, 0.1)),
    ("flying {name} again {day_future}", (0.5, 1.0, 0.6)),
    ("interesting flight {day}", (1.0, 0.6, 0.5)),
    ("ok {name}, let's see how this goes", (0.9, 0.8, 0.2)),
    ("back in {city}. what a week", (0.6, 0.7, 0.6)),
    ("you changed my flight to {time}", (1.0, 0.9, 0.1)),
    ("finally home", (0.7, 0.4, 1.0)),
    ("at least the wifi worked on {flight}", (1.0, 0.3, 0.6)),
    ("that landing in {city} though", (0.8, 0.2, 1.0)),
    ("it is what it is", (1.0, 0.7, 0.2)),
    ("{n2} hours in the air, here we go", (0.4, 1.0, 0.5)),
    ("the {crew_role} on {flight} was something else", (1.0, 0.2, 0.8)),
    ("got a call from your team about {bag}", (0.6, 1.0, 0.7)),
    ("so {flight} is boarding early?", (0.4, 1.0, 0.6)),
    ("same route, same seat, same {crew_role} {lol}", (0.6, 0.6, 0.7)),
    ("didn't expect that from {name}", (1.0, 0.2, 1.0)),
    ("wow, {route} in {n3} hours", (0.8, 0.5, 0.8)),
    ("the {food} is back on the menu", (0.4, 0.8, 1.0)),
    ("mixed feelings about {flight}: {good_clause}, but {bad_clause}", (0.8, 1.0, 0.5)),
    ("{flight} recap: {bad_clause}, {good_clause}", (0.8, 0.7, 0.7)),
    ("{good_clause}, {bad_clause}. average trip", (0.5, 1.0, 0.4)),
    ("so that happened on {flight}", (1.0, 0.5, 0.5)),
    ("{name} never fails to surprise me", (1.0, 0.3, 0.8)),
    ("{hours} hours at {airport} later and I'm finally on the plane", (1.0, 0.7, 0.5)),
    ("thanks for the update on {flight} I guess", (1.0, 0.6, 0.2)),
    ("sitting in {seat} for the next {n3} hours", (0.5, 1.0, 0.5)),
    ("{crew_role} just announced we're {small_n} minutes ahead of schedule", (0.1, 1.0, 0.8)),
    ("my first {name} flight in years", (0.5, 1.0, 0.7)),
)
_P_AMBIGUOUS = 0.12
# 2) Mixed feelings: a clause of the opposite polarity next to the one that decides, e.g.
#    "the crew was lovely but you lost my bag AGAIN". The same clauses also stand alone in
#    tweets of their own polarity, so the words alone don't decide the label; the structure does.
_GOOD_CLAUSES = (
    "the crew was lovely", "the seats were comfy", "the pilot was friendly", "the snacks were good",
    "the app works great", "check-in was quick", "the flight attendants were so kind",
    "the plane was spotless", "boarding was smooth", "the wifi was fast", "the gate agent was helpful",
    "we landed early", "the legroom was decent", "the coffee was actually good",
)
_BAD_CLAUSES = (
    "the flight was late", "boarding was chaos", "the wifi was down", "bags took forever",
    "the seats were cramped", "the app kept crashing", "the cabin was freezing",
    "we sat on the tarmac for an hour", "the gate changed twice", "the food was cold",
    "the line at check-in was huge", "my seat wouldn't recline", "the plane smelled weird",
    "the overhead bins were full",
)
_P_CONCESSION = {"negative": 0.12, "neutral": 0.0, "positive": 0.18}
_CONCESSION_CLAUSE = {"negative": "good_clause", "positive": "bad_clause"}

# Casual writers abbreviate: each matching word is swapped with probability _P_SLANG_WORD.
_SLANG = {
    "you": ("u", "u", "ya"),
    "your": ("ur", "ur", "yr"),
    "you're": ("ur", "youre"),
    "please": ("pls", "plz", "pleeease"),
    "thanks": ("thx", "thnx", "tks"),
    "thank you": ("ty", "thank u", "tysm"),
    "because": ("bc", "cuz", "b/c"),
    "people": ("ppl",),
    "really": ("rly", "realy"),
    "tonight": ("tonite",),
    "seriously": ("srsly",),
    "what's": ("whats", "wats"),
    "don't": ("dont",),
    "can't": ("cant",),
    "didn't": ("didnt",),
    "I'm": ("im", "Im"),
    "I've": ("ive",),
    "there's": ("theres",),
    "minutes": ("mins",),
    "hours": ("hrs",),
    "hour": ("hr",),
    "with": ("w/",),
    "and": ("n", "&"),
    "great": ("gr8",),
    "to be honest": ("tbh",),
    "I don't know": ("idk",),
}
_SLANG_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _SLANG), key=len, reverse=True)) + r")\b")
_P_SLANG_WORD = 0.6
_INTERJECTIONS = {  # slot -> (casual forms, plain forms)
    "smh": (("smh", "SMH", "smh..", "smdh"), ("so disappointing.", "unbelievable.", "sigh.")),
    "omg": (("omg", "OMG", "omgg", "omfg"), ("oh my god", "wow", "oh my")),
    "wtf": (("wtf", "WTF", "wtf??", "wth"), ("what on earth", "what is going on", "are you kidding me")),
    "lol": (("lol", "lmao", "LOL", "haha"), ("ha.", "haha", "wow.")),
    "tbh": (("tbh", "TBH", "ngl"), ("honestly", "to be honest,", "frankly")),
    "idk": (("idk", "IDK", "dunno"), ("I don't know", "not sure", "I can't tell")),
}
_ELONGATE_RE = re.compile(r"\b(so|no|please|love|why|thanks|yes|ugh|wow|omg|what|really|help|now|soo)\b|([!?])(?=\s|$)")


# --------------------------------------------------------------------------------------------
# Slot fillers
# --------------------------------------------------------------------------------------------

_Airline = tuple  # one _AIRLINES row
_SlotFn = Callable[[Random, _Airline, dict], str]


def _flight(rng: Random, airline: _Airline, ctx: dict) -> str:
    code = airline[2]
    r = rng.random()
    number = rng.randint(100, 2999) if r < 0.75 else rng.randint(10, 99) if r < 0.85 else rng.randint(3000, 6999)
    return f"{code}{number}" if rng.random() < 0.85 else f"{code} {number}"


_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _delay(rng: Random, airline: _Airline, ctx: dict) -> str:
    hours = rng.choice((2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 9))
    r = rng.random()
    if r < 0.45:
        return f"{hours} hours"
    if r < 0.65:
        return f"{hours} hrs"
    if r < 0.75:
        return f"{hours}+ hours"
    if r < 0.85:
        return f"{_NUMBER_WORDS[hours]} hours"
    if r < 0.93:
        return f"{hours}h {rng.choice((10, 15, 20, 25, 30, 40, 45, 50))}m"
    return f"{rng.choice((90, 100, 110, 150, 170))} minutes"


def _other(pool: tuple, first: str) -> Callable[[Random, _Airline, dict], str]:
    def pick(rng: Random, airline: _Airline, ctx: dict) -> str:
        taken = ctx.get(first)
        while True:
            value = rng.choice(pool)
            if value != taken:
                return value

    return pick


def _choice(pool: tuple) -> _SlotFn:
    return lambda rng, airline, ctx: rng.choice(pool)


def _gate(rng: Random, airline: _Airline, ctx: dict) -> str:
    return f"{rng.choice('ABCDEF')}{rng.randint(1, 48)}"


def _gate2(rng: Random, airline: _Airline, ctx: dict) -> str:
    while True:
        value = _gate(rng, airline, ctx)
        if value != ctx.get("gate"):
            return value


def _seat(rng: Random, airline: _Airline, ctx: dict) -> str:
    seat = f"{rng.randint(1, 38)}{rng.choice('ABCDEF')}"
    return seat if rng.random() < 0.25 else f"seat {seat}"


def _time(rng: Random, airline: _Airline, ctx: dict) -> str:
    hour, minute = rng.randint(5, 22), rng.choice((0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55))
    r = rng.random()
    if r < 0.3:
        return f"{hour:02d}:{minute:02d}"
    h12 = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    if r < 0.5 and minute == 0:
        return f"{h12}{suffix}"
    return f"{h12}:{minute:02d}{suffix}" if r < 0.8 else f"{h12}:{minute:02d} {suffix.upper()}"


def _amount(rng: Random, airline: _Airline, ctx: dict) -> str:
    value = rng.randint(4, 95) * 10 + rng.choice((0, 0, 9, 5, 0))
    r = rng.random()
    if r < 0.8:
        return f"${value}"
    if r < 0.9:
        return f"${value:,}.{rng.randint(0, 99):02d}"
    return f"{value} dollars" if r < 0.95 else f"€{value}"


def _small_amount(rng: Random, airline: _Airline, ctx: dict) -> str:
    return f"${rng.choice((7, 9, 12, 14, 15, 18, 25, 30, 35, 45, 60))}"


def _points(rng: Random, airline: _Airline, ctx: dict) -> str:
    value = rng.randint(5, 150) * 1000
    return f"{value:,}" if rng.random() < 0.7 else f"{value // 1000}k"


def _route(rng: Random, airline: _Airline, ctx: dict) -> str:
    a = rng.choice(_AIRPORTS)
    while True:
        b = rng.choice(_AIRPORTS)
        if b != a:
            break
    return f"{a}{rng.choice(('-', ' to ', '->', ' - ', '>'))}{b}"


def _handle(rng: Random) -> str:
    """A made-up user handle (Twitter rules: letters, digits, underscore; at most 15 chars)."""
    first = rng.choice(_FIRST_NAMES)
    r = rng.random()
    if r < 0.25:
        handle = f"{first.lower()}_{rng.choice(_HANDLE_WORDS)}{rng.randint(1, 99)}"
    elif r < 0.45:
        handle = f"{first}{rng.choice(_LAST_NAMES).capitalize()}"
    elif r < 0.6:
        handle = f"{rng.choice(_HANDLE_WORDS)}_{first.lower()}"
    elif r < 0.7:
        handle = f"the{first.lower()}{rng.choice(_LAST_NAMES)}"
    elif r < 0.85:
        handle = f"{first.lower()}{rng.choice(_LAST_NAMES)}{rng.randint(70, 99)}"
    else:
        handle = f"{first.lower()}_{rng.choice(_LAST_NAMES)}_{rng.randint(0, 9)}"
    return handle[:15].rstrip("_")


def _interjection(slot: str) -> _SlotFn:
    casual, plain = _INTERJECTIONS[slot]
    return lambda rng, airline, ctx: rng.choice(casual if ctx["casual"] else plain)


_SLOTS: dict[str, _SlotFn] = {
    "flight": _flight,
    "delay": _delay,
    "hours": lambda rng, airline, ctx: str(rng.choice((2, 2, 3, 3, 3, 4, 4, 5, 6, 7))),
    "mins": lambda rng, airline, ctx: str(rng.choice((20, 25, 30, 40, 45, 50, 55, 60, 75, 90, 95, 120, 140, 180))),
    "small_n": lambda rng, airline, ctx: str(rng.randint(10, 45)),
    "n": lambda rng, airline, ctx: str(rng.randint(2, 6)),
    "n2": lambda rng, airline, ctx: str(rng.randint(3, 15)),
    "n3": lambda rng, airline, ctx: str(rng.randint(5, 14)),
    "big_n": lambda rng, airline, ctx: str(rng.randint(12, 150)),
    "city": _choice(_CITIES),
    "city2": _other(_CITIES, "city"),
    "airport": _choice(_AIRPORTS),
    "route": _route,
    "gate": _gate,
    "gate2": _gate2,
    "seat": _seat,
    "time": _time,
    "amount": _amount,
    "small_amount": _small_amount,
    "points": _points,
    "bag": _choice(_BAGS),
    "carry_item": _choice(_CARRY_ITEMS),
    "sports_item": _choice(_SPORTS_ITEMS),
    "food": _choice(_FOOD_ITEMS),
    "crew": _choice(_FIRST_NAMES),
    "crew_role": _choice(_CREW_ROLES),
    "day": _choice(_DAY_PAST),
    "day_future": _choice(_DAY_FUTURE),
    "day_noun": _choice(_DAY_NOUNS),
    "weekday": _choice(_WEEKDAYS),
    "weekday2": _other(_WEEKDAYS, "weekday"),
    "month": _choice(_MONTHS),
    "month2": _choice(("March", "April", "May", "June", "July", "August", "the spring", "the summer")),
    "good_clause": _choice(_GOOD_CLAUSES),
    "good_clause2": _other(_GOOD_CLAUSES, "good_clause"),
    "bad_clause": _choice(_BAD_CLAUSES),
    "bad_clause2": _other(_BAD_CLAUSES, "bad_clause"),
    "name": lambda rng, airline, ctx: airline[0],
    "loyalty": lambda rng, airline, ctx: airline[3],
    **{slot: _interjection(slot) for slot in _INTERJECTIONS},
}

_Parsed = tuple[tuple[str, str | None], ...]


def _parse(template: str) -> _Parsed:
    parts = tuple((literal, field) for literal, field, _spec, _conv in string.Formatter().parse(template))
    for _literal, field in parts:
        if field is not None and field not in _SLOTS:
            raise KeyError(f"unknown slot {{{field}}} in synthetic template {template!r}")
    return parts


# Parsed once; pure data (no I/O), so importing this module stays side-effect free.
_PARSED_TEMPLATES = {label: tuple(map(_parse, _TEMPLATES[label])) for label in SYNTHETIC_LABELS}
_PARSED_OPENERS = {label: tuple(map(_parse, _OPENERS[label])) for label in SYNTHETIC_LABELS}
_PARSED_CLOSERS = {label: tuple(map(_parse, _CLOSERS[label])) for label in SYNTHETIC_LABELS}
_PARSED_AMBIGUOUS = tuple(_parse(template) for template, _weights in _AMBIGUOUS)
_AMBIGUOUS_CUM = {
    label: tuple(accumulate(weights[k] for _template, weights in _AMBIGUOUS))
    for k, label in enumerate(SYNTHETIC_LABELS)
}


def _render(parts: _Parsed, rng: Random, airline: _Airline, ctx: dict) -> str:
    out = []
    for literal, field in parts:
        out.append(literal)
        if field is not None:
            value = ctx.get(field)
            if value is None:
                value = ctx[field] = _SLOTS[field](rng, airline, ctx)
            out.append(value)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Text decoration
# --------------------------------------------------------------------------------------------


def _slangify(text: str, rng: Random) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0)
        if rng.random() >= _P_SLANG_WORD:
            return word
        return rng.choice(_SLANG[word])

    return _SLANG_RE.sub(swap, text)


def _typo(text: str, rng: Random) -> str:
    """Swap, drop or double one letter inside a word (never in numbers, handles or codes)."""
    for _ in range(6):
        i = rng.randrange(1, max(2, len(text) - 2))
        a, b = text[i - 1 : i + 1]
        if i + 1 < len(text) and a.islower() and b.islower() and text[i + 1].islower():
            kind = rng.random()
            if kind < 0.5 and a != b:
                return text[: i - 1] + b + a + text[i + 1 :]
            if kind < 0.8:
                return text[:i] + text[i + 1 :]
            return text[:i] + b + text[i:]
    return text


def _elongate(text: str, rng: Random) -> str:
    matches = list(_ELONGATE_RE.finditer(text))
    if not matches:
        return text
    m = rng.choice(matches)
    if m.group(2):  # punctuation: "!" -> "!!!!"
        return text[: m.start()] + m.group(2) * rng.randint(3, 6) + text[m.end() :]
    word = m.group(1)
    vowel_at = max(word.rfind(v) for v in "aeiouy")
    if vowel_at < 0:
        vowel_at = len(word) - 1
    longer = word[: vowel_at + 1] + word[vowel_at] * rng.randint(2, 5) + word[vowel_at + 1 :]
    return text[: m.start()] + longer + text[m.end() :]


def _caps_word(text: str, rng: Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 3 and w.isalpha() and w.islower()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    words[i] = words[i].upper()
    return " ".join(words)


def _emoji_run(rng: Random, label: str) -> str:
    pool = _EMOJI[label] if rng.random() < 0.85 else _EMOJI_CROSS
    first = rng.choice(pool)
    r = rng.random()
    if r < 0.5:
        return first
    if r < 0.75:
        return first * rng.randint(2, 4)
    return first + rng.choice(_EMOJI[label]) + (rng.choice(_EMOJI[label]) if r > 0.9 else "")


def _html_escape(text: str) -> str:
    # The Twitter/X API escapes exactly these three characters in tweet text.
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _tweet_text(rng: Random, label: str, airline: _Airline, author_casual: bool) -> str:
    handle = "@" + airline[1]
    if rng.random() < _P_EMOJI_ONLY[label]:
        pool = _EMOJI_ONLY[label]
        k = rng.randint(1, 5)
        run = rng.choice(pool) * k if rng.random() < 0.6 else "".join(rng.choice(pool) for _ in range(k))
        return f"{handle} {run}" if rng.random() < 0.85 else f"{handle}{run}"

    casual = author_casual or rng.random() < 0.1
    ctx: dict = {"casual": casual}
    if rng.random() < _P_AMBIGUOUS:
        template = rng.choices(_PARSED_AMBIGUOUS, cum_weights=_AMBIGUOUS_CUM[label])[0]
        body = _render(template, rng, airline, ctx)
    else:
        body = _render(rng.choice(_PARSED_TEMPLATES[label]), rng, airline, ctx)
        if rng.random() < _P_CONCESSION[label] and " but " not in body:
            clause = _SLOTS[_CONCESSION_CLAUSE[label]](rng, airline, ctx)
            if rng.random() < 0.7:
                body = f"{clause} but {body}"
            else:
                body = f"{body.rstrip('.!?')}. {clause} though"
    if rng.random() < _P_OPENER[label]:
        opener = _render(rng.choice(_PARSED_OPENERS[label]), rng, airline, {"casual": casual})
        if opener not in body:
            body = f"{opener} {body}"
    if rng.random() < _P_CLOSER[label]:
        closer = _render(rng.choice(_PARSED_CLOSERS[label]), rng, airline, {"casual": casual})
        if closer in body:  # e.g. "{smh}" in both the template and the closer
            closer = ""
        elif body[-1].isalnum():
            body += rng.choice(_EXCLAIMS[label]) if label != "neutral" or "?" not in body else "."
        if closer:
            body += ("\n" if rng.random() < _P_NEWLINE else " ") + closer
    elif body[-1].isalnum() and rng.random() < 0.4:
        body += rng.choice(_EXCLAIMS[label])

    if casual:
        body = _slangify(body, rng)
    if rng.random() < _P_TYPO:
        body = _typo(body, rng)
    if rng.random() < _P_ELONGATE[label]:
        body = _elongate(body, rng)
    r = rng.random()
    if r < _P_CAPS_ALL[label]:
        body = body.upper()
    elif r < _P_CAPS_ALL[label] + _P_CAPS_WORD[label]:
        body = _caps_word(body, rng)
    elif casual and r > 0.8:
        body = body.lower()
    elif rng.random() < 0.55:
        body = body[0].upper() + body[1:]

    if rng.random() < _P_EMOJI[label]:
        body += rng.choice(("", " ", " ", " ")) + _emoji_run(rng, label)
    if rng.random() < _P_EMOTICON[label]:
        body += " " + rng.choice(_EMOTICONS[label])

    # Address the airline: mostly a leading @handle, sometimes elsewhere, rarely only by name.
    r = rng.random()
    if r < 0.78:
        text = f"{handle} {body}"
    elif r < 0.88:
        text = f"{body} {handle}"
    elif r < 0.92:
        text = f".{handle} {body}"
    elif r < 0.95:
        text = f"{body} #{airline[1]}"
    else:
        if airline[0] in body:
            text = f"{handle} {body}"
        else:
            text = f"{airline[0]} {body}" if rng.random() < 0.5 else f"{body} - {airline[0]}"

    if rng.random() < _P_EXTRA_MENTION:
        friend = "@" + _handle(rng)
        r = rng.random()
        text = f"{friend} {text}" if r < 0.4 else f"{text} cc {friend}" if r < 0.7 else f"{text} {friend}"
    if rng.random() < _P_HASHTAG[label]:
        tags = _HASHTAGS[label]
        tag = rng.choice(tags)
        if rng.random() < 0.35:
            other = rng.choice(tags)
            if other != tag:
                tag = f"{tag} {other}"
        text += ("\n" if rng.random() < _P_NEWLINE else " ") + tag
    if rng.random() < _P_URL:
        text += " https://t.co/" + "".join(rng.choices(_URL_CHARS, k=10))

    text = _html_escape(text)
    if len(text) > MAX_TWEET_CHARS:  # keep the address and the words; drop the decoration
        text = _html_escape(f"{handle} {body}")[:MAX_TWEET_CHARS].rstrip()
    return text


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def _label_cum_weights() -> tuple[list[float], list[tuple[float, float]]]:
    airline_cum, acc = [], 0.0
    label_cuts = []
    for airline in _AIRLINES:
        acc += airline[4]
        airline_cum.append(acc)
        neg = airline[5]
        label_cuts.append((neg, neg + (1 - neg) * _NEUTRAL_SHARE_OF_REST))
    return airline_cum, label_cuts


def _timestamps(spec: SyntheticSpec, n: int) -> list[str]:
    """n sorted ISO-8601 UTC strings in [start, start + days), denser in the daytime."""
    if n == 0:
        return []
    rng = Random(f"tweetsent-synthetic:time:{spec.seed}")
    start = spec.start
    base = calendar.timegm(start.utctimetuple())
    if start.microsecond:
        base += 1  # first whole second at or after start
    base_hour = time.gmtime(base).tm_hour
    day_factor = [0.8 + 0.5 * rng.random() for _ in range(spec.days)]
    cum, acc = [], 0.0
    for k in range(spec.days * 24):
        acc += _HOUR_WEIGHTS[(base_hour + k) % 24] * day_factor[k // 24]
        cum.append(acc)
    slots = rng.choices(range(len(cum)), cum_weights=cum, k=n)
    last = spec.days * 86400 - 1
    rand = rng.random
    offsets = sorted(min(last, s * 3600 + int(rand() * 3600)) for s in slots)
    fmt, gmtime = "%Y-%m-%dT%H:%M:%SZ", time.gmtime
    return [time.strftime(fmt, gmtime(base + off)) for off in offsets]


def _generate_with_true_labels(spec: SyntheticSpec) -> Iterator[tuple[dict, str]]:
    """Yield (record, label before noise). Private: for tests and diagnostics."""
    if not isinstance(spec, SyntheticSpec):
        raise TypeError(f"spec must be a SyntheticSpec, got {type(spec).__name__}")
    if spec.count == 0:
        return
    dup_rng = Random(f"tweetsent-synthetic:dup:{spec.seed}")
    if spec.duplicate_rate > 0:
        is_dup = [False] + [dup_rng.random() < spec.duplicate_rate for _ in range(spec.count - 1)]
    else:
        is_dup = [False] * spec.count
    n_unique = spec.count - sum(is_dup)
    stamps = _timestamps(spec, n_unique)

    rng = Random(f"tweetsent-synthetic:text:{spec.seed}")
    noise_rng = Random(f"tweetsent-synthetic:noise:{spec.seed}")
    regulars = [(_handle(rng), rng.random() < _P_CASUAL) for _ in range(_REGULAR_AUTHORS)]
    airline_cum, label_cuts = _label_cum_weights()
    n_airlines = len(_AIRLINES)
    prefix = f"syn{spec.seed}-"
    noise = spec.label_noise

    i = -1
    record: dict = {}
    true_label = ""
    for dup in is_dup:
        if dup:
            yield dict(record), true_label
            continue
        i += 1
        u = rng.random() * airline_cum[-1]
        a = 0
        while a < n_airlines - 1 and u >= airline_cum[a]:
            a += 1
        airline = _AIRLINES[a]
        u = rng.random()
        cut_neg, cut_neu = label_cuts[a]
        true_label = "negative" if u < cut_neg else "neutral" if u < cut_neu else "positive"
        if rng.random() < _P_AUTHOR_REGULAR:
            author, casual = regulars[rng.randrange(_REGULAR_AUTHORS)]
        else:
            author, casual = _handle(rng), rng.random() < _P_CASUAL
        text = _tweet_text(rng, true_label, airline, casual)

        # Label noise from its own stream, two draws per tweet whatever the rate, so a higher
        # rate flips a superset of the tweets a lower rate flips and texts never depend on it.
        flip, alt = noise_rng.random(), noise_rng.random()
        label = true_label
        if flip < noise:
            others = [x for x in SYNTHETIC_LABELS if x != true_label]
            label = others[int(alt * 2)]
        record = {
            "id": f"{prefix}{i:07d}",
            "text": text,
            "created_at": stamps[i],
            "label": label,
            "author": author,
            "lang": "en",
            "topic": airline[0],
        }
        yield dict(record), true_label


def generate_synthetic(spec: SyntheticSpec) -> Iterator[dict]:
    """Yield records in created_at order.

    Each record is a fresh dict with the keys of :data:`SYNTHETIC_FIELDS` (all str): a stable
    ``id`` ("syn<seed>-<0000042>"), the tweet ``text`` (<= 280 chars, HTML-escaped as from the
    API), ``created_at`` ("2026-01-05T08:13:52Z", non-decreasing), a made-up ``author`` handle,
    ``lang`` "en", ``topic`` (the airline's name) and ``label`` (one of :data:`SYNTHETIC_LABELS`,
    after label noise). With ``duplicate_rate`` > 0 some rows repeat the previous unique row
    exactly (same id), right after it.
    """
    for record, _true in _generate_with_true_labels(spec):
        yield record


def write_synthetic_csv(path: Path | str, spec: SyntheticSpec) -> int:
    """Write the tweets of ``spec`` as UTF-8 CSV (header ``id,text,created_at,label,author,lang,topic``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(SYNTHETIC_FIELDS)
        for record in generate_synthetic(spec):
            writer.writerow([record[f] for f in SYNTHETIC_FIELDS])
            rows += 1
    return rows


def write_synthetic_jsonl(path: Path | str, spec: SyntheticSpec) -> int:
    """Write the tweets of ``spec`` as UTF-8 JSON Lines (one object per line, ensure_ascii=False)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for record in generate_synthetic(spec):
            fh.write(json.dumps(record, ensure_ascii=False))
            fh.write("\n")
            rows += 1
    return rows

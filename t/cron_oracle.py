#!/usr/bin/python3
#
# cron_oracle.py: the independent oracle of t/017_cron_differential.pl.
#
# It knows nothing of snapshot_ops' C code.  It parses cron expressions from
# the rules of crontab(5), and finds when a job runs by simulating Vixie
# cron's main loop (cron.c in Vixie cron 4.1 and cronie) minute by minute
# over the UTC time line: every minute the daemon wakes up, reads the local
# wall clock (Python's zoneinfo on the system tzdata, the tzdata Debian's
# PostgreSQL uses), compares it with its "virtual time" and, by the size of
# the difference, runs the jobs of the minute (normal), catches up (small
# forward jump, up to 5 minutes), runs wildcard jobs of the new minute and
# fixed-time jobs of every skipped minute (medium forward jump, as when
# daylight-saving time begins), runs only wildcard jobs while the clock
# repeats times it showed before (backward jump, as when it ends), or resets
# (a jump over 3 hours).  Stretches of time in which no clock change
# happens and no day or hour of the schedule comes up are skipped whole:
# there every minute is a "normal" wake-up without a job.
#
#   cron_oracle.py generate SEED NEXPR NRUNS     cases and expected runs
#   cron_oracle.py explain EXPR ZONE AFTER N     runs of one expression
#                                                (AFTER in Unix seconds)
#
# Output of "generate", one case a line, tab-separated:
#   id, expression, zone, after (Unix seconds), count, expected, flags
# where expected is the comma-separated run instants (Unix seconds),
# "INVALID" (crontab(5) refuses it) or "NEVER" (it names no date that
# exists), and flags (comma-separated, or "-") says what happened on the
# way: "multi" (Vixie cron ran the job more than once at one wake-up, for
# several times skipped by a forward jump), "small"/"large" (a clock change
# Vixie cron treats as a late wake-up or a clock reset), "dst" (the runs
# differ from the naive reading "every instant whose local time matches"),
# "horizon" (the simulation stopped at the end of its time zone table).
#
# Copyright (c) 2026, snapshot_ops developers

import bisect
import datetime
import random
import re
import sys
import zoneinfo

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe",
         "Asia/Kolkata", "Pacific/Chatham"]

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun",
          "jul", "aug", "sep", "oct", "nov", "dec"]
DOWS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

# name, lowest, highest, names (index 0 = lowest)
FIELDS = [("minute", 0, 59, None), ("hour", 0, 23, None),
          ("dom", 1, 31, None), ("month", 1, 12, MONTHS),
          ("dow", 0, 7, DOWS)]

MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
          "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@hourly": "0 * * * *"}

EPOCH = datetime.datetime(1970, 1, 1)
UTC = datetime.timezone.utc

# The time zone tables cover these years (UTC).
TABLE_FIRST_YEAR = 1990
TABLE_LAST_YEAR = 2200


class Schedule:
    """A parsed crontab(5) time specification."""

    def __init__(self, sets, stars):
        self.minutes, self.hours, self.doms, self.months, dows = sets
        # 7 is Sunday as well as 0
        self.dows = {0 if d == 7 else d for d in dows}
        # Vixie cron's MIN_STAR, HR_STAR, DOM_STAR, DOW_STAR: the field's
        # first character is '*'
        self.min_star, self.hr_star, self.dom_star, self.dow_star = stars
        self.wildcard = self.min_star or self.hr_star

    def day_ok(self, d):
        """crontab(5): if both day fields are restricted (not starting with
        '*'), either may match; otherwise both must."""
        wd = (d.weekday() + 1) % 7      # Sunday = 0
        if self.dom_star or self.dow_star:
            return d.day in self.doms and wd in self.dows
        return d.day in self.doms or wd in self.dows

    def matches(self, local_minute):
        d = EPOCH + datetime.timedelta(minutes=local_minute)
        return (d.minute in self.minutes and d.hour in self.hours
                and d.month in self.months and self.day_ok(d))


ELEMENT = re.compile(r"^(?:(\*)|([0-9]+|[a-zA-Z]+)(?:-([0-9]+|[a-zA-Z]+))?)(?:/([0-9]+))?$")


def parse_value(text, lo, hi, names):
    if text.isdigit():
        v = int(text)
    elif names is not None and text.lower() in names:
        v = names.index(text.lower()) + lo
    else:
        raise ValueError("bad value %r" % text)
    if v < lo or v > hi:
        raise ValueError("%d out of range" % v)
    return v


def parse_field(text, lo, hi, names):
    values = set()
    for element in text.split(","):
        m = ELEMENT.match(element)
        if not m:
            raise ValueError("bad element %r" % element)
        star, first, last, step = m.groups()
        if star:
            a, b = lo, hi
        else:
            a = parse_value(first, lo, hi, names)
            b = parse_value(last, lo, hi, names) if last is not None else a
            if b < a:
                raise ValueError("backwards range")
        if step is not None:
            step = int(step)
            if step < 1:
                raise ValueError("step 0")
            # snapshot_ops' documented extension (as croniter and
            # cron-parser): "N/step" runs from N to the end of the field
            if not star and last is None:
                b = hi
        else:
            step = 1
        values.update(range(a, b + 1, step))
    return values


def parse(expr):
    """Parse a schedule; ValueError when crontab(5) refuses it."""
    expr = expr.strip()
    if len(expr) > 255:
        raise ValueError("too long")
    if expr.startswith("@"):
        if expr.lower() not in MACROS:
            raise ValueError("unknown macro")
        expr = MACROS[expr.lower()]
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError("five fields")
    sets = [parse_field(f, lo, hi, names)
            for f, (_, lo, hi, names) in zip(fields, FIELDS)]
    stars = (fields[0][0] == "*", fields[1][0] == "*",
             fields[2][0] == "*", fields[4][0] == "*")
    return Schedule(sets, stars)


def ever_fires(s):
    """Does any day of a whole 400-year Gregorian cycle match?"""
    for year in range(2000, 2400):
        for month in sorted(s.months):
            for day in range(1, 32):
                try:
                    d = datetime.date(year, month, day)
                except ValueError:
                    break
                if s.day_ok(d):
                    return True
    return False


class ZoneTable:
    """UTC offsets of a zone: the offset before the table and every change
    (instant in Unix seconds, new offset in seconds), found by sampling the
    zone every 6 hours and bisecting each change to the second."""

    def __init__(self, name):
        tz = zoneinfo.ZoneInfo(name)

        def off(t):
            return int(datetime.datetime.fromtimestamp(t, tz).utcoffset().total_seconds())

        t0 = int(datetime.datetime(TABLE_FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp())
        t1 = int(datetime.datetime(TABLE_LAST_YEAR, 12, 31, tzinfo=UTC).timestamp())
        self.first = t0
        self.last = t1
        self.initial = off(t0)
        self.times = []
        self.offsets = []
        prev = self.initial
        step = 6 * 3600
        t = t0
        while t < t1:
            o = off(t + step)
            if o != prev:
                lo, hi = t, t + step      # off(lo) == prev, off(hi) == o
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if off(mid) == prev:
                        lo = mid
                    else:
                        hi = mid
                self.times.append(hi)
                self.offsets.append(o)
                prev = o
            t += step
        for t in self.times:
            if t % 60 != 0:
                raise SystemExit("%s changes its clock at %d, not a whole minute" % (name, t))
        for o in [self.initial] + self.offsets:
            if o % 60 != 0:
                raise SystemExit("%s has an offset of %d seconds" % (name, o))

    def offset(self, t):
        i = bisect.bisect_right(self.times, t)
        return self.initial if i == 0 else self.offsets[i - 1]

    def next_change(self, t):
        """The first change strictly after t, or None."""
        i = bisect.bisect_right(self.times, t)
        return self.times[i] if i < len(self.times) else None

    def changes_between(self, a, b):
        i = bisect.bisect_right(self.times, a)
        j = bisect.bisect_right(self.times, b)
        return list(zip(self.times[i:j], self.offsets[i:j]))


def next_candidate(s, local_minute, limit):
    """The first local minute >= local_minute and <= limit that the schedule
    names, or None: minute by minute, skipping months, days and hours that
    it does not name."""
    m = local_minute
    while m <= limit:
        d = EPOCH + datetime.timedelta(minutes=m)
        if d.month not in s.months:
            y, mo = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
            m = int((datetime.datetime(y, mo, 1) - EPOCH).total_seconds()) // 60
        elif not s.day_ok(d):
            m = (m // 1440 + 1) * 1440
        elif d.hour not in s.hours:
            m = (m // 60 + 1) * 60
        elif d.minute not in s.minutes:
            m += 1
        else:
            return m
    return None


def vixie_runs(s, zt, after, count):
    """Simulate Vixie cron's main loop; return (runs, flags)."""
    flags = set()
    runs = []
    # start 26 hours early, so that the daemon's state at "after" (inside a
    # repeated hour, say) is what a daemon running for long would have
    u = (after // 60) * 60 - 26 * 3600
    virtual = (u + zt.offset(u)) // 60
    u += 60
    while len(runs) < count:
        if u >= zt.last:
            flags.add("horizon")
            break
        running = (u + zt.offset(u)) // 60
        diff = running - virtual
        fired = 0
        if diff == 1:
            virtual = running
            fired += s.matches(virtual)
        elif diff > 180 or diff < -180:
            flags.add("large")
            virtual = running
            fired += s.matches(running)
        elif diff > 5:
            # wildcard jobs of the new minute, then fixed-time jobs of every
            # minute skipped, up to and including the new one
            if s.wildcard:
                fired += s.matches(running)
            while True:
                virtual += 1
                if not s.wildcard:
                    fired += s.matches(virtual)
                if virtual >= running:
                    break
        elif diff > 0:
            flags.add("small")
            while True:
                virtual += 1
                fired += s.matches(virtual)
                if virtual >= running:
                    break
        else:
            # the clock went back: wildcard jobs only, virtual time waits
            if s.wildcard:
                fired += s.matches(running)
        if fired and u > after:
            runs.append(u)
            if fired > 1:
                flags.add("multi")

        # the next wake-up; skip ahead when in step with the clock
        nxt = u + 60
        if virtual == running:
            off = zt.offset(u)
            change = zt.next_change(u)
            limit_minute = ((change if change is not None else zt.last) + off) // 60
            cand = next_candidate(s, running + 1, limit_minute)
            if cand is not None:
                target = cand * 60 - off
            else:
                target = (change if change is not None else zt.last)
                target = -(-target // 60) * 60
            if change is not None and target > change:
                target = -(-change // 60) * 60
            if target > nxt:
                nxt = target
                virtual = (nxt - 60 + off) // 60
        u = nxt
    return runs, flags


def naive_runs(s, zt, after, count):
    """Every instant whose local time the schedule names (no DST rules)."""
    runs = []
    u = (after // 60 + 1) * 60
    while len(runs) < count and u < zt.last:
        off = zt.offset(u)
        change = zt.next_change(u)
        end = change if change is not None else zt.last
        cand = next_candidate(s, (u + off) // 60, (end - 1 + off) // 60)
        if cand is None:
            u = end
            continue
        runs.append(cand * 60 - off)
        u = cand * 60 - off + 60
    return runs


# ---------------------------------------------------------------------------
# Generator

def pick(rng, weighted):
    total = sum(w for w, _ in weighted)
    r = rng.uniform(0, total)
    for w, v in weighted:
        r -= w
        if r <= 0:
            return v
    return weighted[-1][1]


def gen_value(rng, f):
    name, lo, hi, names = FIELDS[f]
    hot = {0: [0, 0, 15, 30, 30, 45, 50, 59],
           1: [0, 1, 1, 2, 2, 2, 3, 23],
           2: [1, 1, 15, 28, 29, 29, 30, 31],
           3: [1, 2, 2, 3, 4, 9, 10, 11, 12],
           4: [0, 0, 1, 5, 6, 7]}[f]
    v = rng.choice(hot) if rng.random() < 0.6 else rng.randint(lo, hi)
    if names is not None and rng.random() < 0.3:
        n = names[(v - lo) % len(names)]
        return rng.choice([n, n.upper(), n.capitalize()]), (v - lo) % len(names) + lo
    return str(v), v


def gen_element(rng, f, in_list=False):
    name, lo, hi, names = FIELDS[f]
    kind = pick(rng, [(3 if in_list else 30, "star"),
                      (3 if in_list else 12, "starstep"), (30, "value"),
                      (12, "range"), (10, "rangestep"), (4, "valuestep"),
                      (2, "onestep")])
    if kind == "star":
        return "*"
    if kind == "starstep":
        return "*/" + str(rng.choice([1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 100]))
    a, av = gen_value(rng, f)
    if kind == "value":
        return a
    if kind == "valuestep":
        return a + "/" + str(rng.choice([1, 2, 5, 15, 30]))
    if kind == "onestep":
        return "%s-%s/%d" % (a, a, rng.choice([1, 2, 7]))
    b, bv = gen_value(rng, f)
    if bv < av:
        a, b = b, a
    if kind == "range":
        return a + "-" + b
    return "%s-%s/%d" % (a, b, rng.choice([1, 2, 3, 5, 10, 40]))


def gen_field(rng, f):
    n = pick(rng, [(80, 1), (14, 2), (6, 3)])
    return ",".join(gen_element(rng, f, n > 1) for _ in range(n))


INVALID_FIELDS = [(0, "60"), (1, "24"), (2, "0"), (2, "32"), (3, "13"),
                  (4, "8"), (0, "5-1"), (1, "*/0"), (3, "foo"), (4, "monday"),
                  (0, "1,,2"), (2, "1-"), (3, "*-3"), (1, "2/")]


def gen_night(rng):
    """A job at the hours clocks change in the five zones (01:00-03:59 local;
    00:00 for midnight jobs), fixed-time or wildcard, mostly daily."""
    minute = pick(rng, [(40, lambda: str(rng.choice([0, 15, 30, 44, 45, 46, 50, 59]))),
                        (15, lambda: "%d,%d" % tuple(sorted(rng.sample([0, 10, 30, 45, 50], 2)))),
                        (15, lambda: "*/" + str(rng.choice([5, 15, 20, 30]))),
                        (5, lambda: "*"),
                        (10, lambda: "%d-%d" % (rng.choice([0, 30, 40]), rng.choice([44, 50, 59]))),
                        (15, lambda: rng.choice(["0/15", "30/10", "45-59/5", "0-59/30"]))])()
    hour = pick(rng, [(50, lambda: str(rng.choice([0, 1, 1, 2, 2, 2, 3]))),
                      (15, lambda: rng.choice(["1,2", "2,3", "1-3", "0-4/2", "1-2"])),
                      (15, lambda: "*"),
                      (10, lambda: rng.choice(["*/2", "*/3", "1/1", "2-2/1"])),
                      (10, lambda: str(rng.randint(0, 23)))])()
    dom = rng.choice(["*", "*", "*", "*", "*/2", "1-31", "*/1"])
    month = rng.choice(["*", "*", "*", "*", "3,4,9,10,11", "mar-apr,sep-nov", "*/1"])
    dow = rng.choice(["*", "*", "*", "*", "0", "7", "sun", "*/1", "1-5", "5-7"])
    return " ".join([minute, hour, dom, month, dow])


def gen_expression(rng):
    """Returns (expression, kind)."""
    r = rng.random()
    if r < 0.03:
        return rng.choice(list(MACROS) + ["@DAILY", "@Hourly", "@reboot", "@fortnightly"]), "macro"
    if r < 0.045:
        return rng.choice(["%d %d 30 2 *", "%d %d 31 4,6,9,11 *",
                           "%d %d 30,31 feb *", "%d %d 30 2 */2",
                           "%d %d 31 apr-jun/2 *", "%d %d 30 2 mon",
                           "%d %d 31 2,4 */7", "%d %d 29 2 */7"]) % (
            rng.randint(0, 59), rng.randint(0, 23)), "days"
    if r < 0.45:
        return gen_night(rng), "night"
    fields = [gen_field(rng, f) for f in range(5)]
    # both day fields restricted, often
    if r < 0.60:
        if fields[2].startswith("*"):
            fields[2] = rng.choice(["13", "1,15", "28-31", "29", "31", "1-7", "30"])
        if fields[4].startswith("*"):
            fields[4] = rng.choice(["fri", "1-5", "0", "7", "sun,wed", "5-7"])
    if r > 0.98:
        f, bad = rng.choice(INVALID_FIELDS)
        fields[f] = bad
    sep = rng.choice([" ", " ", " ", "\t", "  "])
    expr = sep.join(fields)
    if rng.random() < 0.02:
        expr = " " + expr + "  "
    return expr, "general"


def local_to_utc(zone, y, mo, d, h, mi):
    tz = zoneinfo.ZoneInfo(zone)
    return int(datetime.datetime(y, mo, d, h, mi, tzinfo=tz).timestamp())


def start_pool(zone, zt, rng):
    """Start instants: (1) around the zone's clock changes, (2) month ends,
    leap days, and at random."""
    changes = []
    other = []
    for a, b in [(2024, 2032), (2098, 2102)]:
        lo = int(datetime.datetime(a, 1, 1, tzinfo=UTC).timestamp())
        hi = int(datetime.datetime(b, 1, 1, tzinfo=UTC).timestamp())
        for t, _ in zt.changes_between(lo, hi):
            for delta in [-26 * 3600, -3 * 3600, -3660, -3600, -1860, -60, -30,
                          0, 60, 1740, 3540, 3600, 3660, 7200]:
                changes.append(t + delta)
    for y in list(range(2024, 2032)) + [2096, 2099, 2100]:
        for mo in range(1, 13):
            nxt = datetime.date(y + (mo == 12), mo % 12 + 1, 1)
            last = nxt - datetime.timedelta(days=1)
            other.append(local_to_utc(zone, last.year, last.month, last.day, 23, 59))
            other.append(local_to_utc(zone, last.year, last.month, last.day, 12, 0))
    for y in [2024, 2028, 2096, 2100]:
        other.append(local_to_utc(zone, y, 2, 28, 23, 59))
        other.append(local_to_utc(zone, y, 2, 28, 0, 0))
    lo = int(datetime.datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    hi = int(datetime.datetime(2036, 1, 1, tzinfo=UTC).timestamp())
    for _ in range(200):
        other.append(rng.randint(lo, hi))
    return changes or other, other


def expected(expr, zt, after, count):
    try:
        s = parse(expr)
    except ValueError:
        return "INVALID", set()
    if not ever_fires(s):
        return "NEVER", set()
    runs, flags = vixie_runs(s, zt, after, count)
    if runs != naive_runs(s, zt, after, len(runs)):
        flags.add("dst")
    return ",".join(str(r) for r in runs), flags


def generate(seed, nexpr, count):
    rng = random.Random(seed)
    tables = {z: ZoneTable(z) for z in ZONES}
    pools = {z: start_pool(z, tables[z], rng) for z in ZONES}
    case = 0
    for _ in range(nexpr):
        expr, kind = gen_expression(rng)
        for zone in ZONES:
            changes, other = pools[zone]
            near = rng.random() < (0.9 if kind == "night" else 0.4)
            after = rng.choice(changes if near else other)
            exp, flags = expected(expr, tables[zone], after, count)
            case += 1
            print("\t".join([str(case), expr.replace("\t", "\\t"), zone,
                             str(after), str(count), exp,
                             ",".join(sorted(flags)) or "-"]))


def main(argv):
    if len(argv) == 4 and argv[0] == "generate":
        generate(int(argv[1]), int(argv[2]), int(argv[3]))
    elif len(argv) == 5 and argv[0] == "explain":
        zt = ZoneTable(argv[2])
        exp, flags = expected(argv[1], zt, int(argv[3]), int(argv[4]))
        tz = zoneinfo.ZoneInfo(argv[2])
        if exp in ("INVALID", "NEVER"):
            print(exp)
        else:
            for r in exp.split(","):
                if r:
                    print(r, datetime.datetime.fromtimestamp(int(r), UTC).isoformat(),
                          datetime.datetime.fromtimestamp(int(r), tz).isoformat())
        print("flags:", ",".join(sorted(flags)) or "-")
    else:
        sys.stderr.write(__doc__ if __doc__ else "usage: see the header of this file\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Python baseline for bench_prompt: the same prompt built with str.format/join and the same
reply parsed with re, from the inputs bench_prompt wrote. Checks it reproduces the C prompt and
action exactly, then prints microseconds per decision (process CPU time)."""
import json
import math
import re
import sys
import time

d = json.load(open(sys.argv[1]))

OBJECTIVE = ("You are an HVAC administrator. Your primary objective is to fine-tune the actions "
             "to maintain the temperature in each room close to the target temperature, while "
             "maximizing the rewards as much as possible.")
HEATING = ("You are heating. Actions are integers from 0 to 100, one per room. If a room is "
           "warmer than the target, the larger the difference, the lower its action; if colder, "
           "the higher.")
COOLING = "You are cooling. Actions are integers from -100 to 0, one per room."


def rnd(x):  # half away from zero, like the library (Python's round() is half-to-even)
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def translate(v):
    if isinstance(v, float):
        return rnd(v)
    if isinstance(v, dict):
        return {k: translate(x) for k, x in v.items()}
    if isinstance(v, list):
        return [translate(x) for x in v]
    return v


def meta(c):
    return ("You are the HVAC administrator responsible for managing a building of type "
            "{building} located in {city}, where the climate is {climate}.").format(**c)


def significant(x, digits=3):  # the library's rewards: 3 significant digits, no exponent
    if x == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(x)))
    s = "%.*f" % (max(decimals, 0), x)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s.strip("-0.") == "" else s


def state(c):
    rooms = "".join("{}: {} degrees Celsius\n".format(r["name"], r["temperature"])
                    for r in c["rooms"])
    return ("The building has {n_rooms} rooms in total. Currently, temperature in each room is "
            "as follows:\n{rooms}The external climate conditions are as follows:\nOutside "
            "Temperature: {outside} degrees Celsius.\nGlobal Horizontal Irradiance: {ghi}.\n"
            "Ground Temperature: {ground} degrees Celsius.\nOccupant Power: {occupancy} KW.\n"
            "Target Temperature: {target} degrees Celsius.").format(
        rooms=rooms, **{k: v for k, v in c.items() if k != "rooms"})


def feedback(c):
    return ("Comments: After taking the above actions, temperature in each room becomes:\n" +
            "".join("{}: {} degree Celsius\n".format(r["name"], r["temperature"])
                    for r in c["rooms"])).rstrip()


def comments(c):
    out = []
    for r in c["rooms"]:
        if r["below_target"]:
            out.append("The action for {} shall be increased as its temperature is lower than "
                       "the target temperature.\n".format(r["name"]))
        if r["above_target"]:
            out.append("The action for {} shall be decreased as its temperature is higher than "
                       "the target temperature.\n".format(r["name"]))
    return "".join(out).rstrip()


def join(*parts, sep=" "):
    return sep.join(p for p in parts if p)


RANK = {1: 0, 0: 1, 2: 2}  # representatives, nearest neighbours, history


def prompt(demos, current):
    cur = translate(current)
    blocks = [OBJECTIVE, (HEATING if cur["heating"] else "") + (COOLING if cur["cooling"] else "")]
    items = []
    shown = sorted(enumerate(demos), key=lambda kd: (RANK[kd[0] % 3], kd[0]))
    for k, (_, dm) in enumerate(shown):
        c = translate(dm["context"])
        n = translate(dm["next"])
        acts = "[" + ", ".join(str(rnd(a * 100)) for a in dm["action"]) + "]"
        fb = join(feedback(n), comments(n), sep="\n")
        items.append("Demonstration {}:\nDescription: {}\nReward: {}\nActions: {}\n{}".format(
            k + 1, join(meta(c), state(c)), significant(dm["reward"]), acts, fb))
    blocks.append(("For your reference, {} demonstrations are provided below. The greater the "
                   "reward a demonstration achieves, the more effective it is.\n".format(len(demos))
                   + "".join(i + "\n" for i in items)).rstrip())
    blocks.append("Please decide opening of the valve in each room based on the following "
                  "description:\nDescription: " + join(meta(cur), state(cur)))
    return "\n\n".join(blocks) + "\nActions:"


LIST = re.compile(r"(?i)\bactions?\b[ \t]*[:=]\s*\[([^\[\]]*)\]")


def parse(reply, dim):
    m = None
    for m in LIST.finditer(reply):
        pass
    if not m:
        raise ValueError("no action found")
    vals = [float(x.strip().rstrip("%")) for x in m.group(1).split(",") if x.strip()]
    if len(vals) != dim:
        raise ValueError("expected %d values, got %d" % (dim, len(vals)))
    out = []
    for v in vals:
        if not math.isfinite(v):
            raise ValueError("not finite")
        if v != math.floor(v):
            v = rnd(v)
        out.append(min(1.0, max(-1.0, v / 100)))
    return out


text = prompt(d["demos"], d["current"])
action = parse(d["reply"], len(d["action"]))
if text != d["prompt"]:
    import difflib
    sys.stderr.write("".join(difflib.unified_diff(d["prompt"].splitlines(True),
                                                  text.splitlines(True), "C", "Python")))
    sys.exit("the Python prompt differs from libfewshot's")
if any(abs(a - b) > 1e-12 for a, b in zip(action, d["action"])):
    sys.exit("the Python action differs from libfewshot's")
n = 0
t0 = time.process_time()
while True:
    for _ in range(50):
        prompt(d["demos"], d["current"])
        parse(d["reply"], len(d["action"]))
        n += 1
    t = time.process_time() - t0
    if t > 2.0:
        break
print("%.3f" % (t / n * 1e6))

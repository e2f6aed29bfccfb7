#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into corpus/<target>/.

Run from tests/fuzz: `python3 make_seeds.py`. It only (re)writes the files named
`seed-*`; inputs the fuzzer found are kept beside them under their own names.
"""
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SOH = "\x01"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def fix(msg_type, body, checksum=None):
    """A FIX 4.4 message from a desk with a correct BodyLength and CheckSum."""
    fields = [("35", msg_type), ("49", "DESK1"), ("56", "SOR"), ("34", "2"),
              ("52", "20240101-12:00:00.000")] + body
    text = "".join(f"{t}={v}{SOH}" for t, v in fields)
    head = f"8=FIX.4.4{SOH}9={len(text.encode())}{SOH}"
    total = sum((head + text).encode()) % 256
    return head + text + f"10={checksum if checksum else f'{total:03d}'}{SOH}"


NOS = [("11", "p1"), ("1", "acct-7"), ("55", "USDC/USD"), ("54", "2"), ("38", "1000000"),
       ("40", "1"), ("60", "20240101-12:00:00")]


def desk_fix():
    write("desk_fix", "nos-market-sweep", fix("D", NOS))
    twap = [f for f in NOS if f[0] != "40"] + [
        ("40", "2"), ("44", "0.9990"), ("59", "3"), ("847", "1001"), ("957", "4"),
        ("958", "DurationSecs"), ("959", "1"), ("960", "3600"),
        ("958", "MaxClip"), ("959", "6"), ("960", "250000"),
        ("958", "Venues"), ("959", "14"), ("960", "dealer-a,book-x"),
        ("958", "MaxSlippageBps"), ("959", "6"), ("960", "2.5")]
    write("desk_fix", "nos-limit-twap-params", fix("D", twap))
    write("desk_fix", "nos-market-with-price", fix("D", NOS + [("44", "1.0")]))
    write("desk_fix", "nos-group-count-short",
          fix("D", NOS + [("957", "2"), ("958", "MaxClip"), ("960", "5")]))
    write("desk_fix", "nos-qty-exponent",
          fix("D", [f if f[0] != "38" else ("38", "1e6") for f in NOS]))
    write("desk_fix", "cancel", fix("F", [("41", "p1"), ("11", "c1"), ("37", "SOR-1"),
                                          ("54", "2"), ("55", "USDC/USD"), ("60", "20240101-12:00:01")]))
    write("desk_fix", "status", fix("H", [("11", "p1"), ("54", "2"), ("55", "USDC/USD")]))
    write("desk_fix", "unsupported-type", fix("G", [("11", "p1"), ("41", "p0")]))
    write("desk_fix", "bad-checksum", fix("D", NOS, checksum="000"))


# desk_fix_fields: the byte encoding of tests/src/fuzz_bodies/desk_fix.rs.
TAGS = [1, 11, 37, 38, 40, 41, 44, 54, 55, 59, 60, 847, 957, 958, 959, 960]


def raw(value):
    b = value.encode()
    return bytes([0xC0, len(b)]) + b


def fields(msg_type_byte, pairs, groups=()):
    out = bytes([msg_type_byte])
    for tag, value in pairs:
        out += bytes([TAGS.index(tag)]) + raw(value)
    for name, typ, value in groups:
        out += bytes([0xF0]) + raw(name) + raw(typ) + raw(value)
    return out


def desk_fix_fields():
    nos = [(11, "p1"), (55, "USDC/USD"), (54, "1"), (38, "250000.5"), (40, "2"),
           (44, "1.0001"), (60, "20240229-23:59:60.999")]
    write("desk_fix_fields", "nos-limit", fields(0, nos))
    write("desk_fix_fields", "nos-twap-group",
          fields(0, nos + [(847, "1001")], [("DurationSecs", "1", "600"), ("Venues", "14", "pool-a")]))
    write("desk_fix_fields", "nos-duplicate-param",
          fields(0, nos, [("MaxClip", "6", "1"), ("MaxClip", "6", "2")]))
    write("desk_fix_fields", "cancel", fields(2, [(11, "c9"), (41, "p1")]))
    write("desk_fix_fields", "status", fields(4, [(11, "p1"), (54, "2")]))
    write("desk_fix_fields", "other-type", fields(6, [(11, "x")]))


def copy(target, name, path):
    with open(os.path.join(ROOT, path), "rb") as f:
        write(target, name, f.read())


MIN_SCENARIO = '''name = "tiny"
seed = 1
[valuation]
currency = "USD"
[valuation.references]
USDC = "1"
[[venues]]
id = "pool-a"
kind = "pool"
instrument = "USDC/USD"
pmm = { i = "1000000000000000000", k = "500000000000000000", b = "1000000000", q = "1000000000", b0 = "1000000000", q0 = "1000000000", r = "ONE", lp_fee_rate = "300000000000000", base_decimals = 6, quote_decimals = 6 }
gas_cost = "1"
[[parents]]
desk = "DESK1"
client_id = "p1"
instrument = "USDC/USD"
side = "sell"
qty = "1000"
strategy = "sweep"
'''


def scenario():
    copy("scenario", "corridor.toml", "scenarios/corridor.toml")
    copy("scenario", "corridor-twap.toml", "scenarios/corridor-twap.toml")
    copy("scenario", "canary.toml", "scenarios/canary.toml")
    copy("scenario", "market-sim.toml", "config/market-sim.toml")
    write("scenario", "tiny-pmm.toml", MIN_SCENARIO)
    write("scenario", "approx-pool.toml", MIN_SCENARIO.replace(
        'pmm = { i = "1000000000000000000", k = "500000000000000000", b = "1000000000", q = "1000000000", b0 = "1000000000", q0 = "1000000000", r = "ONE", lp_fee_rate = "300000000000000", base_decimals = 6, quote_decimals = 6 }',
        'pool = { i = "1", k = "0.5", base_reserve = "100", quote_reserve = "100", base_target = "100", quote_target = "100", lp_fee_rate = "0.0003", base_decimals = 6, quote_decimals = 6 }'))
    write("scenario", "float-qty.toml", MIN_SCENARIO.replace('qty = "1000"', "qty = 150.5"))


GATEWAY_REAL = '''[gateway]
market = "market.toml"
[desks.DESK1]
[venues.book-x]
fix = { host = "fix.exchange.example", port = 4198, target = "EXCH", sender = "SOR", reconnect_secs = 5 }
[venues.dealer-a]
rfq = { url = "https://rfq.dealer.example", api_key_env = "DEALER_A_KEY" }
[venues.pool-cwusdc]
chain = { rpc_url = "https://node.example", pool = "0x00", router = "0x01", key_env = "SOR_CHAIN_KEY", chain_id = 1 }
'''


def gateway_config():
    copy("gateway_config", "gateway.toml", "config/gateway.toml")
    write("gateway_config", "real-venues.toml", GATEWAY_REAL)
    write("gateway_config", "minimal.toml", '[gateway]\nmarket = "m.toml"\n[desks.D]\n')
    write("gateway_config", "bad-hash.toml",
          '[gateway]\nmarket = "m"\n[desks.D]\npassword_hash = "sha256$s$zz"\nusername = "u"\n')


def risk_limits():
    copy("risk_limits", "config-limits.toml", "config/limits.toml")
    copy("risk_limits", "example-limits.toml", "risk/examples/limits.toml")
    write("risk_limits", "minimal.toml", 'currency = "USD"\n')
    write("risk_limits", "float.toml", 'currency = "USD"\n[venues.v]\nmax_clip = 1.5\n')


TCA_LINE = ('{"window_start_ms": 1556719200000, "window_end_ms": 1556722800000, "partitions": 12, '
            '"constituents": ["a", "b"], "trades": [[1556719200000, "a", "1.0000", "10"], '
            '[1556719499999, "b", "1.0002", "30"], [1556719500000, "a", "0.9990", "5"], '
            '[1556719500001, "a", "0.9996", "5"], [1556722800000, "a", "2", "100"], '
            '[1556719200010, "x", "3", "1000"]], "order": {"side": "sell", "qty": "5000000", '
            '"arrival_px": "1.0000", "end_px": "0.9990", "start_ms": 1556719200000, '
            '"end_ms": 1556719800000, "fills": [{"ts_ms": 1556719200005, "venue": "a", '
            '"px": "0.9998", "qty": "4000000", "fee": "50", "mid": "1.0000"}]}}')


def tca_line():
    write("tca_line", "spec-order", TCA_LINE)
    no_order = TCA_LINE[:TCA_LINE.index(', "order"')] + "}"
    write("tca_line", "no-order", no_order)
    write("tca_line", "no-trades", re.sub(r'"trades": \[.*\]\], ', '"trades": [], ', no_order))
    write("tca_line", "bad-partitions", TCA_LINE.replace('"partitions": 12', '"partitions": 7'))
    write("tca_line", "huge-qty", TCA_LINE.replace('"4000000"', '"79228162514264337593543950335"'))
    write("tca_line", "broken", "{broken")


# pool_math: the byte encoding of tests/src/fuzz_bodies/pool_math.rs.
def e18(n):  # selector 7: n * 1e18
    return bytes([7, n >> 8, n & 0xFF])


def small(n):  # selector 0: one byte
    return bytes([0, n])


def special(i):  # selector 5: 0, 1, 2, 1e18-1, 1e18, 1e18+1, 1e36, 2^112-1, 2^128, MAX
    return bytes([5, i])


def pow10(exp, n):  # selector 4: n * 10^exp
    return bytes([4, exp, n >> 8, n & 0xFF])


R = {"ONE": 0, "ABOVE_ONE": 1, "BELOW_ONE": 2}
V2024 = 3


def pool(i, k, b, q, b0, q0, r, lp, mt, version, amount, more, dec=(18, 18),
         token=(1, 0), approx=b""):
    mantissa, scale = token
    tok = mantissa.to_bytes(12, "big") + bytes(4) + bytes([0, scale])
    return (i + k + b + q + b0 + q0 + bytes([R[r]]) + lp + mt + bytes([version]) + amount
            + more + bytes(dec) + tok + approx)


def pool_math():
    one = special(4)
    dsp = (one, pow10(17, 1), e18(1000), e18(1000), e18(1000), e18(1000))
    zero = small(0)
    write("pool_math", "dsp-sell-quote-100",
          pool(*dsp, "ONE", zero, zero, V2024, e18(100), e18(1), token=(100, 0)))
    write("pool_math", "fees-3bps",
          pool(*dsp, "ONE", pow10(14, 3), pow10(14, 1), V2024, e18(10), small(1)))
    write("pool_math", "above-one",
          pool(one, pow10(17, 5), e18(900), e18(1100), e18(1000), e18(1000), "ABOVE_ONE",
               zero, zero, V2024, e18(50), e18(100), token=(12345, 3)))
    write("pool_math", "below-one-v2021",
          pool(one, pow10(17, 5), e18(1100), e18(900), e18(1000), e18(1000), "BELOW_ONE",
               zero, zero, 0, e18(500), e18(5000)))
    write("pool_math", "k-one-6dp",
          pool(pow10(30, 1), special(4), pow10(6, 1000), pow10(18, 1000), pow10(6, 1000),
               pow10(18, 1000), "ONE", zero, zero, V2024, pow10(6, 7), pow10(6, 1), dec=(6, 18),
               token=(7, 0)))
    write("pool_math", "k-zero",
          pool(one, zero, e18(10), e18(10), e18(10), e18(10), "ONE", zero, zero, V2024,
               e18(20), small(1)))
    write("pool_math", "dvm",
          pool(one, pow10(17, 5), e18(10), e18(10), zero, zero, "ABOVE_ONE", zero, zero, V2024,
               e18(1), e18(1)))
    write("pool_math", "max-values",
          pool(special(9), special(9), special(9), special(9), special(9), special(9), "ONE",
               special(9), special(9), V2024, special(9), special(9)))
    def dec(mantissa, scale=0):  # a decimal: 96-bit mantissa, sign byte, scale byte
        return mantissa.to_bytes(12, "big") + bytes(4) + bytes([0, scale])

    approx = (dec(1) + (5 * 10**17).to_bytes(8, "big") + dec(1000) * 4
              + (3 * 10**14).to_bytes(8, "big") + bytes([6, 6]))
    write("pool_math", "approx-pool",
          pool(*dsp, "ONE", zero, zero, V2024, e18(1), small(1), token=(5, 1), approx=approx))


if __name__ == "__main__":
    for t in ["desk_fix", "desk_fix_fields", "scenario", "gateway_config", "risk_limits",
              "tca_line", "pool_math"]:
        d = os.path.join(HERE, "corpus", t)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.startswith("seed-"):
                    os.remove(os.path.join(d, f))
    desk_fix()
    desk_fix_fields()
    scenario()
    gateway_config()
    risk_limits()
    tca_line()
    pool_math()

#!/usr/bin/python3
"""What python-pskc reads from PSKC files: the expectation side of the peer table test.

Reads a JSON list of {"file", "key"?: hex, "password"?} on stdin and prints, for each
file, either {"error": "<exception class>: <message>"} or {"keys": [...]} with the
fields a token is made of (serial, secret hex, algorithm, suite, digits, check digit,
period, T0, counter, and whether the policy lets the key be used for OTPs).
Run with Debian's python3-pskc: /usr/bin/python3 scripts/peers/pskc-read.py < list.json
"""
import binascii
import json
import sys

import pskc


def key_fields(key):
    # Every field is read inside the caller's try: a bad value raises when it is touched.
    secret = key.secret
    return {
        "serial": key.serial,
        "id": key.id,
        "secret": binascii.hexlify(secret).decode() if secret is not None else None,
        "algorithm": key.algorithm,
        "suite": key.algorithm_suite,
        "digits": key.response_length,
        "checkDigit": key.response_check,
        "encoding": key.response_encoding,
        "period": key.time_interval,
        "t0": key.time_offset,
        "drift": key.time_drift,
        "counter": str(key.counter) if key.counter is not None else None,
        "mayUseOtp": key.policy.may_use("OTP"),
        "startDate": key.policy.start_date.isoformat() if key.policy.start_date else None,
        "expiryDate": key.policy.expiry_date.isoformat() if key.policy.expiry_date else None,
    }


def read(entry):
    try:
        container = pskc.PSKC(entry["file"])
        if entry.get("key"):
            container.encryption.key = binascii.unhexlify(entry["key"])
        elif entry.get("password"):
            container.encryption.derive_key(entry["password"])
        return {"file": entry["file"], "keys": [key_fields(k) for k in container.keys]}
    except Exception as e:  # the table records any refusal, whatever its class
        return {"file": entry["file"], "error": "%s: %s" % (type(e).__name__, e)}


def main():
    print(json.dumps([read(e) for e in json.load(sys.stdin)], indent=1, default=str))


if __name__ == "__main__":
    main()

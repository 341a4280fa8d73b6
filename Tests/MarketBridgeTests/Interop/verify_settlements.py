#!/usr/bin/env python3
"""Checks CHESS's settlement signatures and keccak-256 with the Ethereum ecosystem's own tools.

Reads the JSON written by MarketBridgeTests.InteropTests: EIP-712 payloads signed in Swift, each
with the provider address the signature must (or, for a tampered copy, must not) recover to, and
keccak-256 digests computed in Swift. Prints one line per check; exits 1 if any check fails.
"""
import json
import sys

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak


def typed(payload):
    """eth-account wants numbers as ints and bytes32 as bytes; CHESS sends every value as text."""
    types = payload["types"]

    def convert(struct, values):
        out = {}
        for field in types[struct]:
            v = values[field["name"]]
            t = field["type"]
            if t.startswith("uint") or t.startswith("int"):
                v = int(v)
            elif t == "bytes32":
                v = bytes.fromhex(v[2:])
            out[field["name"]] = v
        return out

    return {
        "types": types,
        "primaryType": payload["primaryType"],
        "domain": convert("EIP712Domain", payload["domain"]),
        "message": convert(payload["primaryType"], payload["message"]),
    }


def main(path):
    cases = json.load(open(path))
    failures = 0
    for case in cases["signatures"]:
        signable = encode_typed_data(full_message=typed(case["typedData"]))
        recovered = Account.recover_message(signable, signature=bytes.fromhex(case["signature"][2:]))
        matches = recovered.lower() == case["provider"].lower()
        ok = matches == case["expectValid"]
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {case['name']}: recovered {recovered}, provider {case['provider']}, "
              f"{'valid' if matches else 'invalid'} (expected {'valid' if case['expectValid'] else 'invalid'})")
    for case in cases["keccak"]:
        digest = "0x" + keccak(bytes.fromhex(case["input"])).hex()
        ok = digest == case["digest"]
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} keccak256 of {len(case['input']) // 2} bytes: {digest}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""dotenvx-compatible encryption, without Node.js.

The modules here are the library layer behind ``envdrift encrypt`` and ``envdrift
decrypt`` and the built-in decryption verifier; none of them imports Click.

* ``crypto``: secp256k1 ECIES values (``encrypted:…``) and key pairs.
* ``suffix``: the environment suffix dotenvx derives from a file name.
* ``envfile``: an env-file parser that keeps every byte, and the single-pass rewrite.
* ``keysfile``: reading, merging and writing ``.env.keys``.
* ``keyring``: finding the private key that opens a file.
* ``verify``: checking a key against a file, in memory.

``docs/dotenvx-compat.md`` says where envdrift deliberately differs from dotenvx.
"""

"""Where a server process's OpenSSL finds the CA certificates: in the hashed directory, one issuer at a time,
rather than parsed all at once from the bundle file (issue #13: idle RSS, bench/rss.py).

OpenSSL's default verify paths are a bundle file *and* a hashed directory, both trusted. Every SSL context
made with them (``ssl.create_default_context()``, ``set_default_verify_paths()``) parses the whole file into
memory at once: about 140 certificates, 0.8-2.3 MB a context. aiohttp's connector makes two such contexts
when it is imported, which its client then uses for every verified request. The directory is looked up
lazily instead: OpenSSL loads ``<subject hash>.<n>`` when a chain needs that issuer and keeps it, so an
idle node holds none and a busy one the few roots its peers use.

When every certificate of the bundle file is also in the directory under a hash name (Debian and Ubuntu's
``update-ca-certificates`` writes both from the same list: ``/etc/ssl/certs/ca-certificates.crt`` and
``/etc/ssl/certs/<hash>.0``), the file adds nothing to what is trusted, so the server commands point
OpenSSL's ``SSL_CERT_FILE`` (openssl-env(7)) at an empty file before anything makes a context. Trust is
unchanged: the same certificates, verification on as before. Otherwise (a file with certificates the
directory lacks, trust settings or CRLs in it, no hashed directory as on Fedora, a file that cannot be read)
nothing is changed. An administrator's ``SSL_CERT_FILE``/``SSL_CERT_DIR`` are what is compared, and their
file is only left out under the same condition.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import ssl
from collections.abc import Iterable, MutableMapping
from pathlib import Path

# A PEM block; OpenSSL reads the bundle's certificates from these (RFC 7468).
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
# What OpenSSL's directory lookup opens: the subject name's hash, a dot, a sequence number (CRLs are ".r<n>").
_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def prefer_hashed_directory(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Before any SSL context is made: leave the bundle file out of OpenSSL's default verify paths if the
    hashed directory holds each of its certificates. True if it did."""
    paths = ssl.get_default_verify_paths()
    cafile = environ.get(paths.openssl_cafile_env, paths.openssl_cafile)
    capath = environ.get(paths.openssl_capath_env, paths.openssl_capath)
    if not cafile or not capath or cafile == os.devnull:
        return False
    bundle = _certificates(_read(Path(cafile)))
    if not bundle or not bundle <= _hashed_certificates(capath.split(os.pathsep)):
        return False
    environ[paths.openssl_cafile_env] = os.devnull  # read at each context's making, by OpenSSL itself
    return True


def _read(path: Path) -> str | None:
    try:
        # PEM is ASCII; Latin-1 reads any byte, so comments between blocks (certifi's "# Issuer: ...") pass.
        return path.read_text(encoding="latin-1")
    except OSError:
        return None


def _certificates(text: str | None) -> frozenset[bytes] | None:
    """The DER of each certificate in PEM ``text``; None if it holds anything else OpenSSL would load from
    it (trust settings, CRLs, ...) or cannot be read: then the file is not left out."""
    if text is None:
        return None
    found = set()
    for label, body in _PEM_BLOCK.findall(text):
        if label != "CERTIFICATE":
            return None
        try:
            found.add(base64.b64decode("".join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            return None
    return frozenset(found)


def _hashed_certificates(directories: Iterable[str]) -> frozenset[bytes]:
    """The certificates OpenSSL's directory lookup can find in ``directories``."""
    found: set[bytes] = set()
    for directory in directories:
        try:
            names = [entry for entry in os.scandir(directory) if _HASHED_NAME.fullmatch(entry.name)]
        except OSError:
            continue
        for entry in names:
            found |= _certificates(_read(Path(entry.path))) or frozenset()
    return frozenset(found)

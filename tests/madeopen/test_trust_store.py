"""OpenSSL's CA certificates from the hashed directory instead of the bundle file (madeopen/trust_store.py;
issue #13: idle RSS). The file is left out only when the directory holds each of its certificates; outbound
TLS stays verified (a peer with a certificate of an unknown CA is refused), and a server command sets this
up before aiohttp's import makes its SSL contexts."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from madeopen.trust_store import prefer_hashed_directory

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate,
                 ec.EllipticCurvePrivateKey] | None = None) -> x509.Certificate:
    """A CA certificate (no ``issuer``: self-signed), or a server certificate for 127.0.0.1 that ``issuer``
    signs."""
    now = datetime.datetime.now(datetime.timezone.utc)
    signer_cert, signer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(signer_cert.subject if signer_cert else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + DAY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True).add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def _ca(subject: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    return _certificate(subject, key), key


def _pem(*certificates: x509.Certificate) -> str:
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certificates)


def _store(tmp_path: Path, in_file: list[x509.Certificate], in_directory: list[x509.Certificate],
           names: list[str] | None = None) -> dict[str, str]:
    """A bundle file and a directory as OpenSSL's environment variables name them."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(_pem(*in_file))
    directory = tmp_path / "certs"
    directory.mkdir()
    for index, cert in enumerate(in_directory):
        name = names[index] if names else f"{index:08x}.0"
        (directory / name).write_text(_pem(cert))
    return {"SSL_CERT_FILE": str(bundle), "SSL_CERT_DIR": str(directory)}


@pytest.fixture(scope="module")
def cas() -> list[x509.Certificate]:
    return [_ca(f"Test CA {n}")[0] for n in range(3)]


def test_the_file_is_left_out_when_the_directory_holds_each_of_its_certificates(tmp_path, cas):
    environ = _store(tmp_path, cas[:2], cas)  # the directory may hold more: both are trusted anyway
    assert prefer_hashed_directory(environ)
    assert environ["SSL_CERT_FILE"] == os.devnull
    assert not prefer_hashed_directory(environ)  # once is enough


def test_comments_between_the_blocks_do_not_count(tmp_path, cas):
    environ = _store(tmp_path, cas[:2], cas)
    bundle = Path(environ["SSL_CERT_FILE"])
    bundle.write_text("# Issuer: CN=Test CA 0 O=Ősz\n" + bundle.read_text(), encoding="utf-8")  # certifi's style
    assert prefer_hashed_directory(environ)


def test_a_certificate_only_in_the_file_keeps_the_file(tmp_path, cas):
    environ = _store(tmp_path, cas, cas[:2])
    before = dict(environ)
    assert not prefer_hashed_directory(environ)
    assert environ == before


def test_only_hashed_names_count_as_in_the_directory(tmp_path, cas):
    # OpenSSL's lookup opens <subject hash>.<n>: a certificate under another name is not found by it.
    environ = _store(tmp_path, cas[:2], cas[:2], names=["00000000.0", "ca-two.pem"])
    assert not prefer_hashed_directory(environ)
    assert environ["SSL_CERT_FILE"].endswith("bundle.pem")


def test_anything_but_certificates_in_the_file_keeps_the_file(tmp_path, cas):
    environ = _store(tmp_path, cas[:1], cas)
    bundle = Path(environ["SSL_CERT_FILE"])
    trusted = _pem(cas[1]).replace("BEGIN CERTIFICATE", "BEGIN TRUSTED CERTIFICATE").replace(
        "END CERTIFICATE", "END TRUSTED CERTIFICATE")
    bundle.write_text(bundle.read_text() + trusted)  # trust settings OpenSSL would read from the file
    assert not prefer_hashed_directory(environ)


def test_no_file_no_directory_or_an_empty_file_change_nothing(tmp_path, cas):
    missing = _store(tmp_path, cas[:1], cas)
    missing["SSL_CERT_FILE"] = str(tmp_path / "absent.pem")
    assert not prefer_hashed_directory(missing)
    no_directory = {"SSL_CERT_FILE": missing["SSL_CERT_DIR"] + "/00000000.0", "SSL_CERT_DIR": str(tmp_path / "absent")}
    assert not prefer_hashed_directory(no_directory)
    empty = {"SSL_CERT_FILE": str(tmp_path / "empty.pem"), "SSL_CERT_DIR": missing["SSL_CERT_DIR"]}
    Path(empty["SSL_CERT_FILE"]).write_text("")
    assert not prefer_hashed_directory(empty)


def test_several_directories_are_searched_as_openssl_does(tmp_path, cas):
    environ = _store(tmp_path, cas[:2], cas[:1])
    other = tmp_path / "more"
    other.mkdir()
    (other / "0000abcd.0").write_text(_pem(cas[1]))
    environ["SSL_CERT_DIR"] += os.pathsep + str(other)
    assert prefer_hashed_directory(environ)


def _subprocess_environment(tmp_path: Path, store: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MADEOPEN_", "SSL_CERT_"))}
    env.update(store, PYTHONPATH=str(ROOT))
    return env


def _hashed_directory(tmp_path: Path, certificates: list[x509.Certificate]) -> Path:
    """Named by OpenSSL itself (``openssl x509 -subject_hash``), as c_rehash and update-ca-certificates do."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to name the hashed directory's files")
    directory = tmp_path / "hashed"
    directory.mkdir()
    for index, cert in enumerate(certificates):
        pem = tmp_path / f"ca{index}.pem"
        pem.write_text(_pem(cert))
        subject_hash = subprocess.run([openssl, "x509", "-subject_hash", "-noout", "-in", str(pem)], check=True,
                                      capture_output=True, text=True).stdout.strip()
        shutil.copy(pem, directory / f"{subject_hash}.0")
    return directory


TLS_SCRIPT = r"""
import asyncio, json, os, ssl, sys

from madeopen.trust_store import prefer_hashed_directory

moved = prefer_hashed_directory()  # as a server command does, before aiohttp is imported

import aiohttp.connector
from aiohttp import web

from federation.http import FederationClient
from federation.http_errors import FetchError


class NoSignature:
    def sign(self, method, url, headers, body):
        return {}


async def fetch_from_peer(chain, key):
    app = web.Application()
    app.router.add_get("/doc", lambda request: web.json_response({"ok": True}))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        async with FederationClient(user_agent="test", default_signer=NoSignature(), allow_private_addresses=True,
                                    total_timeout=10) as client:
            return await client.fetch_json(f"https://127.0.0.1:{runner.addresses[0][1]}/doc")
    except FetchError as exc:
        return str(exc)
    finally:
        await runner.cleanup()


async def main():
    verified = aiohttp.connector._SSL_CONTEXT_VERIFIED  # what the client verifies with (ssl=True)
    out = {"moved": moved, "cafile": os.environ["SSL_CERT_FILE"], "loaded": verified.cert_store_stats()["x509"]}
    out["trusted"] = await fetch_from_peer(sys.argv[1], sys.argv[2])
    out["unknown CA"] = await fetch_from_peer(sys.argv[3], sys.argv[4])
    out["loaded after"] = verified.cert_store_stats()["x509"]
    print(json.dumps(out))


asyncio.run(main())
"""


def _server_files(tmp_path: Path, name: str, ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]) -> list[str]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("127.0.0.1", key, ca)
    chain, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    chain.write_text(_pem(cert))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return [str(chain), str(key_file)]


def test_outbound_tls_is_verified_with_the_directory_alone(tmp_path):
    """The federation client with the file left out: a peer whose CA is in the directory is fetched, one
    whose CA is not is refused; aiohttp's verified context held no certificate until one was needed."""
    trusted, unknown = _ca("Peers' CA"), _ca("Unknown CA")
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(_pem(trusted[0]))
    store = {"SSL_CERT_FILE": str(bundle), "SSL_CERT_DIR": str(_hashed_directory(tmp_path, [trusted[0]]))}
    done = subprocess.run(
        [sys.executable, "-c", TLS_SCRIPT, *_server_files(tmp_path, "peer", trusted),
         *_server_files(tmp_path, "stranger", unknown)],
        cwd=ROOT, env=_subprocess_environment(tmp_path, store), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["moved"] is True and out["cafile"] == os.devnull
    assert out["loaded"] == 0
    assert out["trusted"] == {"ok": True}
    assert "certificate verify failed" in out["unknown CA"]
    assert out["loaded after"] == 1  # the peers' CA, looked up in the directory when its chain needed it


CLI_SCRIPT = r"""
import json, os, sys

from madeopen.cli import main

imported_first = "aiohttp" in sys.modules
code = main(["worker"])  # the schema is not there: it stops after the app is imported
import aiohttp.connector

print(json.dumps({"imported first": imported_first, "code": code, "cafile": os.environ["SSL_CERT_FILE"],
                  "loaded": aiohttp.connector._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509"]}))
"""


def test_a_server_command_leaves_the_file_out_before_aiohttp_makes_its_contexts(tmp_path, cas):
    store = _store(tmp_path, cas[:2], cas)
    env = _subprocess_environment(tmp_path, store)
    env.update(
        MADEOPEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'node.db'}",
        MADEOPEN_DATA_DIR=str(tmp_path / "data"),
        MADEOPEN_DOMAIN="example.test",
        MADEOPEN_SECRET_KEY="trust-store-test",
    )
    done = subprocess.run([sys.executable, "-c", CLI_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["imported first"] is False  # importing the CLI makes no SSL context
    assert out["code"] == 1  # (the schema is missing)
    assert out["cafile"] == os.devnull
    assert out["loaded"] == 0  # with the file still in: 2

# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A certificate credential read from disk (PEM or PKCS#12) into what MSAL takes as client_credential.

Read and decrypted before anything is sent, so a wrong path or password fails naming its option.
"""

from __future__ import annotations

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import ConfigurationError


def load_certificate_credential(path, password=None):
    """Return MSAL's client_credential dict {private_key, thumbprint} from a PEM or PKCS#12 file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigurationError("client_certificate_path: can not read {0}: {1}".format(path, exc.strerror),
                                 option="client_certificate_path")
    try:
        # cryptography comes with msal; imported here so other methods never pay for it.
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ConfigurationError("the Python library 'cryptography' is required for auth_method=certificate",
                                 option="client_certificate_path")
    pw = password.encode("utf-8") if password else None
    if b"-----BEGIN" in data:
        certs = x509.load_pem_x509_certificates(data) if b"CERTIFICATE-----" in data else []
        if not certs:
            raise ConfigurationError("client_certificate_path: {0} holds no PEM certificate".format(path),
                                     option="client_certificate_path")
        if b"PRIVATE KEY-----" not in data:
            raise ConfigurationError("client_certificate_path: {0} holds no private key (put the key in the same file)"
                                     .format(path), option="client_certificate_path")
        try:
            key = serialization.load_pem_private_key(data, password=pw)
        except TypeError:
            raise ConfigurationError("client_certificate_password is required: the key in {0} is encrypted".format(path)
                                     if pw is None else
                                     "client_certificate_password is given but the key in {0} is not encrypted".format(path),
                                     option="client_certificate_password")
        except ValueError:
            raise ConfigurationError("client_certificate_password is wrong, or the key in {0} is not readable".format(path),
                                     option="client_certificate_password")
        cert = certs[0]
    else:
        try:
            key, cert, _extra = pkcs12.load_key_and_certificates(data, pw)
        except ValueError:
            raise ConfigurationError("client_certificate_password is wrong, or {0} is not a PEM or PKCS#12 file".format(path),
                                     option="client_certificate_password")
        if key is None or cert is None:
            raise ConfigurationError("client_certificate_path: {0} must hold both the certificate and its key".format(path),
                                     option="client_certificate_path")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    return {"private_key": key_pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper()}  # nosec: x5t is SHA-1 by spec

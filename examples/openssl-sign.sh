#!/bin/sh
# Signs a message for Jinguan with nothing but OpenSSL 3 and a POSIX shell.
#
#   examples/openssl-sign.sh BODY KEY SERIAL
#
# BODY is the file sent as the request body, byte for byte; KEY the SM2 private key
# (openssl genpkey -algorithm SM2); SERIAL the serial of the key's certificate, in hex, as
# POST /api/v1/pki/certificates returned it. Prints the value of the X-Jws-Signature header:
# a detached JWS (RFC 7515 appendix F) with an unencoded payload (RFC 7797), SM2 over SM3
# with the default distinguishing id.
set -eu
body=$1 key=$2 serial=$3
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
header=$(printf '{"alg":"SM2-SM3","kid":"%s","b64":false,"crit":["b64"]}' "$serial" | b64url)
signature=$({ printf '%s.' "$header"; cat "$body"; } |
    openssl dgst -sm3 -sign "$key" -sigopt distid:1234567812345678 | b64url)
printf '%s..%s\n' "$header" "$signature"

#!/usr/bin/env bash
# A private CA and a certificate for chessd's TCP listener, with OpenSSL:
#
#   scripts/make-tls.sh DIR NAME_OR_IP...     e.g. scripts/make-tls.sh /etc/chess/tls ctl01 ctl01.cluster 10.0.0.1
#
# Writes DIR/ca.crt (give it to every agent: --tls-ca), DIR/ca.key (keep it offline), and
# DIR/chessd.crt and DIR/chessd.key for [tls] in chess.toml, the certificate naming each
# NAME_OR_IP (agents check the name or address they dial against it). Keys are 0600.
# An existing CA in DIR is reused, so that a new certificate for chessd keeps the agents' trust.
set -euo pipefail
dir=${1:?usage: scripts/make-tls.sh DIR NAME_OR_IP...}
shift
[ $# -gt 0 ] || { echo "usage: scripts/make-tls.sh DIR NAME_OR_IP..." >&2; exit 2; }
mkdir -p "$dir"
umask 077
sans=()
for n in "$@"; do
    if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then sans+=("IP:$n"); else sans+=("DNS:$n"); fi
done
san=$(IFS=,; echo "${sans[*]}")
if [ ! -s "$dir/ca.key" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/CN=CHESS cluster CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/chessd.key" -out "$dir/chessd.csr" -subj "/CN=$1" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' "$san" > "$dir/chessd.ext"
openssl x509 -req -in "$dir/chessd.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 825 \
    -out "$dir/chessd.crt" -extfile "$dir/chessd.ext" 2>/dev/null
rm -f "$dir/chessd.csr" "$dir/chessd.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.crt" "$dir/chessd.crt"
echo "$dir: ca.crt (agents: --tls-ca), chessd.crt and chessd.key ([tls]), for $san"

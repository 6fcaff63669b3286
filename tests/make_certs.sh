#!/usr/bin/env bash
# Creates throw-away X.509 material for the TLS tests with the openssl command.
#
#   tests/make_certs.sh DIR
#
# Every run makes fresh keys and certificates in DIR (created if needed; files of an
# earlier run are replaced):
#   ca.pem ca.key              test CA (basicConstraints CA:TRUE, keyUsage keyCertSign)
#   server.pem server.key      signed by the CA; SAN localhost, *.oss-test.example,
#                              files.example.test, 127.0.0.1
#   server-chain.pem           server.pem followed by ca.pem
#   other.pem other.key        signed by the CA; SAN other.example only
#   self.pem self.key          self-signed; SAN localhost, 127.0.0.1 (not under the CA)
#   expired.pem expired.key    signed by the CA; SAN localhost, 127.0.0.1;
#                              valid 2020-01-01 to 2021-01-01 only
#   bundle.pem                 the CA certificate alone (a CA file for clients)
# Keys are RSA 2048 by default, EC P-256 with MAKE_CERTS_KEY=ec; signatures SHA-256.
# Each result is checked with "openssl verify". Silent on success; on failure one
# message on stderr and a non-zero exit status.
set -u

die() {
    echo "make_certs: $*" >&2
    exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: make_certs.sh DIR"
command -v openssl >/dev/null 2>&1 || die "the openssl command is not installed"
out=$1
mkdir -p "$out" || die "cannot create $out"
work=$(mktemp -d "$out/.make_certs.XXXXXX") || die "cannot create a work directory in $out"
trap 'rm -rf "$work"' EXIT
log=$work/openssl.log

case "${MAKE_CERTS_KEY:-rsa}" in
    rsa) newkey=(-newkey rsa:2048); leaf_usage="digitalSignature, keyEncipherment" ;;
    ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); leaf_usage="digitalSignature, keyAgreement" ;;
    *) die "MAKE_CERTS_KEY must be rsa or ec" ;;
esac

# Runs an openssl command with its chatter kept aside; on failure shows what it said.
ossl() {
    if ! openssl "$@" >"$log" 2>&1; then
        echo "make_certs: openssl $1 failed:" >&2
        grep -v '^[-.+*]*$' "$log" | sed 's/^/    /' >&2
        exit 1
    fi
}

# One configuration for everything, so the system's openssl.cnf plays no part.
cnf=$work/openssl.cnf
cat >"$cnf" <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $leaf_usage
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, DNS:*.oss-test.example, DNS:files.example.test, IP:127.0.0.1
[ ext_other ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $leaf_usage
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:other.example
[ ext_local ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $leaf_usage
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1
[ ext_expired ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $leaf_usage
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1

# "openssl ca" is the one command of OpenSSL 3.0 that accepts dates in the past.
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $work/ca
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
certificate = $work/ca.pem
private_key = $work/ca.key
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
copy_extensions = none
[ any_name ]
organizationName = optional
commonName = supplied
EOF

w=$work
# The CA.
ossl req -x509 -config "$cnf" "${newkey[@]}" -nodes -keyout "$w/ca.key" -out "$w/ca.pem" \
    -days 3650 -sha256 -subj "/O=oss_resumable tests/CN=oss_resumable test CA" -extensions ext_ca

# A leaf signed by the CA: leaf NAME CN EXTENSION-SECTION
leaf() {
    ossl req -new -config "$cnf" "${newkey[@]}" -nodes -keyout "$w/$1.key" -out "$w/$1.csr" \
        -subj "/O=oss_resumable tests/CN=$2"
    ossl x509 -req -in "$w/$1.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" \
        -set_serial "0x$(openssl rand -hex 12)" -days 825 -sha256 \
        -extfile "$cnf" -extensions "$3" -out "$w/$1.pem"
}
leaf server localhost ext_server
leaf other other.example ext_other

# Self-signed, not below the CA.
ossl req -x509 -config "$cnf" "${newkey[@]}" -nodes -keyout "$w/self.key" -out "$w/self.pem" \
    -days 825 -sha256 -subj "/O=oss_resumable tests/CN=localhost" -extensions ext_local

# Expired: validity entirely in the past, signed through "openssl ca".
mkdir -p "$w/ca/new" || die "cannot create $w/ca"
: >"$w/ca/index.txt"
openssl rand -hex 12 | tr 'a-f' 'A-F' | sed 's/^/10/' >"$w/ca/serial"
ossl req -new -config "$cnf" "${newkey[@]}" -nodes -keyout "$w/expired.key" -out "$w/expired.csr" \
    -subj "/O=oss_resumable tests/CN=localhost"
ossl ca -config "$cnf" -batch -notext -in "$w/expired.csr" -out "$w/expired.pem" \
    -startdate 20200101000000Z -enddate 20210101000000Z -extensions ext_expired

cat "$w/server.pem" "$w/ca.pem" >"$w/server-chain.pem" || die "cannot write server-chain.pem"
cp "$w/ca.pem" "$w/bundle.pem" || die "cannot write bundle.pem"

# Checks: what must verify does, what must not does not, and for the right reason.
verify() {          # verify EXPECT(ok|fail) WORD CERT [openssl verify options]
    local expect=$1 word=$2 cert=$3
    shift 3
    local res
    res=$(openssl verify -CAfile "$w/ca.pem" "$@" "$w/$cert" 2>&1)
    local rc=$?
    if [ "$expect" = ok ]; then
        [ $rc -eq 0 ] || die "$cert does not verify: $res"
    else
        [ $rc -ne 0 ] || die "$cert verifies but must not ($*)"
        case "$res" in
            *"$word"*) ;;
            *) die "$cert fails for another reason than '$word': $res" ;;
        esac
    fi
}
verify ok - ca.pem
verify ok - server.pem
verify ok - server.pem -verify_hostname localhost
verify ok - server.pem -verify_hostname bkt.oss-test.example
verify ok - server.pem -verify_hostname files.example.test
verify ok - server.pem -verify_ip 127.0.0.1
verify ok - server-chain.pem
verify ok - other.pem
verify fail "error 62 " other.pem -verify_hostname localhost
verify fail "error 18 " self.pem
verify ok - expired.pem -no_check_time              # only its dates are wrong
verify fail "error 10 " expired.pem
for f in ca server other self expired; do
    openssl x509 -in "$w/$f.pem" -noout -text 2>/dev/null | grep -q "sha256With\|ecdsa-with-SHA256" \
        || die "$f.pem is not signed with SHA-256"
done

for f in ca.pem ca.key server.pem server.key server-chain.pem other.pem other.key \
         self.pem self.key expired.pem expired.key bundle.pem; do
    chmod 600 "$w/$f" 2>/dev/null
    case "$f" in *.pem) chmod 644 "$w/$f" ;; esac
    mv -f "$w/$f" "$out/$f" || die "cannot move $f into $out"
done
exit 0

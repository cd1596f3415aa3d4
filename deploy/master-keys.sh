#!/bin/sh
# Writes Weft master keyring files (`master.keys`) on stdout.
#
#   sh master-keys.sh new              a fresh keyring holding one key
#   sh master-keys.sh add FILE         FILE plus one new key, last (not current yet)
#   sh master-keys.sh promote FILE ID  FILE with key ID first (current)
#
# The file holds one `id:base64` line per 32-byte key, the current key first;
# older keys only unwrap the tenant keys they wrapped. Rotation is `add`,
# roll every process, `promote`, roll again (deploy/README.md, "The master
# keyring"). The new key's id goes to stderr. Needs od, head, base64, grep.
set -eu

die() {
  echo "master-keys.sh: $*" >&2
  exit 2
}

new_key() {
  id="k$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  key="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
  [ "${#key}" -eq 44 ] || die "could not read 32 random bytes"
  echo "new key: $id" >&2
  printf '%s:%s\n' "$id" "$key"
}

readable() {
  [ -r "$1" ] || die "cannot read $1"
}

case "${1:-}" in
  new)
    [ "$#" -eq 1 ] || die "usage: master-keys.sh new"
    printf '%s\n' \
      '# Weft master keys, one `id:base64` line each, the current key first.' \
      '# Older keys only unwrap what they wrapped. Keep this file secret.'
    new_key
    ;;
  add)
    [ "$#" -eq 2 ] || die "usage: master-keys.sh add FILE"
    readable "$2"
    cat "$2"
    # A last line without its newline would run into the new key.
    [ -z "$(tail -c 1 "$2")" ] || echo
    new_key
    ;;
  promote)
    [ "$#" -eq 3 ] || die "usage: master-keys.sh promote FILE ID"
    readable "$2"
    case "$3" in
      '' | *[!A-Za-z0-9_-]*) die "not a key id: $3" ;;
    esac
    grep -q "^$3:" "$2" || die "no key $3 in $2"
    grep -E '^[[:space:]]*(#|$)' "$2" || true
    grep "^$3:" "$2"
    grep -vE "^$3:|^[[:space:]]*(#|$)" "$2" || true
    ;;
  *)
    die "usage: master-keys.sh new | add FILE | promote FILE ID"
    ;;
esac

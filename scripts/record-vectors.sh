#!/bin/sh
# Re-records paygate/tests/vectors/php_signatures.json from the gateway's
# documented PHP signing function (see scripts/record-vectors.php).
#
# Requires php-cli (PHP 8, with the bundled json and hash extensions):
#     apt-get install php-cli
#
# Usage: scripts/record-vectors.sh   (from anywhere)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/paygate/tests/vectors/php_signatures.json"
mkdir -p "$(dirname "$out")"
# -n: ignore any php.ini; precision=14 is PHP's default float-to-string precision.
php -n -d precision=14 "$root/scripts/record-vectors.php" > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"

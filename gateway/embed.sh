#!/bin/sh
# embed.sh NAME FILE: print a C file defining `const char NAME[]` with FILE's bytes.
set -eu
name=$1
file=$2
printf '/* Generated from %s by gateway/embed.sh; do not edit. */\n' "$file"
printf 'const char %s[] =\n' "$name"
# Escape backslashes and quotes, keep one C string literal per line.
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$file"
printf ';\n'

#!/bin/sh
# embed-web.sh DIR: print a C file with every file of DIR (the staff console's
# HTML, CSS and JavaScript) as bytes, and the table pt_web_assets[] that
# src/console.c serves them from (include/pintu/assets.h).
set -eu
dir=$1
printf '/* Generated from %s by gateway/embed-web.sh; do not edit. */\n' "$dir"
printf '#include "pintu/assets.h"\n'
n=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	printf 'static const unsigned char a%d[] = {\n' "$n"
	od -An -v -tx1 "$f" | sed -e 's/ *$//' -e 's/^ */0x/' -e 's/ \+/,0x/g' -e 's/$/,/'
	printf '0};\n'
	n=$((n + 1))
done
printf 'const struct pt_asset pt_web_assets[] = {\n'
n=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	base=$(basename "$f")
	case $base in
	*.html) ct="text/html; charset=utf-8" ;;
	*.css) ct="text/css; charset=utf-8" ;;
	*.js) ct="text/javascript; charset=utf-8" ;;
	*.svg) ct="image/svg+xml" ;;
	*.png) ct="image/png" ;;
	*.json) ct="application/json; charset=utf-8" ;;
	*) ct="application/octet-stream" ;;
	esac
	printf '\t{ "%s", "%s", a%d, sizeof(a%d) - 1 },\n' "$base" "$ct" "$n" "$n"
	n=$((n + 1))
done
printf '\t{ 0, 0, 0, 0 },\n};\n'
printf 'const int pt_web_nassets = %d;\n' "$n"

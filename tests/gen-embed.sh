#!/bin/sh
# gen-embed.sh NAME FILE: print a C file defining NAME as FILE's bytes,
# NUL-terminated, and NAME_len as their count.
set -eu
name=$1 file=$2
printf '/* generated from %s; do not edit */\n#include <stddef.h>\n' "$file"
printf 'const char %s[] = {\n' "$name"
od -An -v -tx1 "$file" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g; s/^/\t/'
printf '\t0x00\n};\nconst size_t %s_len = sizeof(%s) - 1;\n' "$name" "$name"

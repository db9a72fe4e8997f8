#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "util.h"

/* Decodes one UTF-8 sequence at s; returns its length, 0 if invalid. */
static size_t
utf8_char(const unsigned char *s, unsigned long *cp)
{
	size_t need, k;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		need = 1, *cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		need = 2, *cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		need = 3, *cp = s[0] & 0x07;
	else
		return 0;
	for (k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	if ((need == 1 && *cp < 0x80) || (need == 2 && *cp < 0x800) ||
	    (need == 3 && *cp < 0x10000) || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return need + 1;
}

/*
 * Characters that change how other text looks, or are invisible: the
 * controls, bidi and zero-width format characters, the soft hyphen, the
 * tag characters (which can spell out text no one sees) and the fillers
 * that are letters but print as nothing.
 */
static int
unsafe_cp(unsigned long cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0xad || cp == 0x061c || cp == 0x115f || cp == 0x1160 ||
	    cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0x3164 || cp == 0xfeff || cp == 0xffa0 ||
	    (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Adds cp as \uNNNN, or \UNNNNNNNN beyond the BMP (as bash reads them). */
static void
add_u(struct buf *b, unsigned long cp)
{
	if (cp > 0xffff)
		buf_addf(b, "\\U%08lx", cp);
	else
		buf_addf(b, "\\u%04lx", cp);
}

static int
plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("_@%+=:,./-", c) != NULL;
}

/* 0: plain, 1: needs '…', 2: needs $'…' */
static int
classify(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t n;
	/* zsh reads a leading '=' as =cmd, the command's path */
	int level = *p == '\0' || *p == '=' ? 1 : 0;

	while (*p != '\0') {
		if (plain_byte(*p)) {
			p++;
			continue;
		}
		if ((n = utf8_char(p, &cp)) == 0 || unsafe_cp(cp))
			return 2;
		level = 1;
		p += n;
	}
	return level;
}

static void
add_dollar_quoted(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t n;

	buf_adds(b, "$'");
	while (*p != '\0') {
		n = utf8_char(p, &cp);
		if (n == 0) {
			buf_addf(b, "\\x%02x", *p++);
			continue;
		}
		switch (cp) {
		case '\\': buf_adds(b, "\\\\"); break;
		case '\'': buf_adds(b, "\\'"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\b': buf_adds(b, "\\b"); break;
		case 0x1b: buf_adds(b, "\\e"); break;
		default:
			if (cp < 0x20 || cp == 0x7f)
				buf_addf(b, "\\x%02lx", cp);
			else if (unsafe_cp(cp))
				add_u(b, cp);
			else
				buf_add(b, p, n);
		}
		p += n;
	}
	buf_addc(b, '\'');
}

char *
esc_shell_word(const char *s)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	switch (classify(s)) {
	case 0:
		buf_adds(&b, s);
		break;
	case 1:
		buf_addc(&b, '\'');
		for (p = s; *p != '\0'; p++) {
			if (*p == '\'')
				buf_adds(&b, "'\\''");
			else
				buf_addc(&b, *p);
		}
		buf_addc(&b, '\'');
		break;
	default:
		add_dollar_quoted(&b, s);
	}
	return buf_detach(&b);
}

char *
esc_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	struct buf b;
	size_t n;

	buf_init(&b);
	while (*p != '\0') {
		if ((n = utf8_char(p, &cp)) == 0) {
			buf_addf(&b, "\\x%02x", *p++);
			continue;
		}
		if (cp < 0x20 || cp == 0x7f)
			buf_addf(&b, "\\x%02lx", cp);
		else if (unsafe_cp(cp))
			add_u(&b, cp);
		else
			buf_add(&b, p, n);
		p += n;
	}
	return buf_detach(&b);
}

char *
esc_argv(char *const *argv)
{
	struct buf b;
	char *w;
	size_t i;

	buf_init(&b);
	for (i = 0; argv != NULL && argv[i] != NULL; i++) {
		w = esc_shell_word(argv[i]);
		if (i > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, w);
		free(w);
	}
	return buf_detach(&b);
}

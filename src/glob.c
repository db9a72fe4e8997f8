/*
 * Glob patterns for policies. Text mode is a linear matcher with a single
 * backtrack point, so hostile input cannot make it exponential; path mode
 * matches component by component in the same way, '**' standing for any
 * number of components as '*' does for characters.
 */
#include <string.h>

#include "glob.h"

/*
 * Matches c against the class starting just after '[' at *pp; leaves *pp
 * after the closing ']'. Returns 1 on match, 0 on none, -1 if malformed.
 */
static int
match_class(const char **pp, unsigned char c)
{
	const unsigned char *p = (const unsigned char *)*pp;
	unsigned char lo, hi;
	int neg = 0, hit = 0, first = 1;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	for (;; first = 0) {
		if (*p == '\0')
			return -1;
		if (*p == ']' && !first)
			break;
		if (*p == '\\' && p[1] != '\0')
			p++;
		lo = hi = *p++;
		if (*p == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '\\' && p[1] != '\0')
				p++;
			hi = *p++;
		}
		if (lo <= c && c <= hi)
			hit = 1;
	}
	*pp = (const char *)p + 1;
	return hit != neg;
}

const char *
glob_check(const char *pat, size_t *offset)
{
	const char *p = pat, *q;
	int r;

	if (*pat == '\0') {
		if (offset != NULL)
			*offset = 0;
		return "empty pattern";
	}
	for (; *p != '\0'; p++) {
		if (*p == '\\') {
			if (p[1] == '\0') {
				if (offset != NULL)
					*offset = (size_t)(p - pat);
				return "trailing '\\'";
			}
			p++;
		} else if (*p == '[') {
			q = p + 1;
			if ((r = match_class(&q, 0)) < 0) {
				if (offset != NULL)
					*offset = (size_t)(p - pat);
				return "unterminated '['";
			}
			p = q - 1;
		}
	}
	return NULL;
}

int
glob_is_literal(const char *pat)
{
	return strpbrk(pat, "*?[\\") == NULL;
}

/* Text match of pattern [p, pe) against [s, se); '/' is special if path. */
static int
match_text(const char *p, const char *pe, const char *s, const char *se,
    int path)
{
	const char *star_p = NULL, *star_s = NULL, *q;
	int r;

	while (s < se) {
		if (p < pe && *p == '*') {
			while (p < pe && *p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (p < pe && *p == '?' && !(path && *s == '/')) {
			p++;
			s++;
			continue;
		}
		if (p < pe && *p == '[') {
			q = p + 1;
			r = match_class(&q, (unsigned char)*s);
			if (r == 1 && !(path && *s == '/')) {
				p = q;
				s++;
				continue;
			}
		} else if (p < pe) {
			if (*p == '\\' && p + 1 < pe)
				p++;
			if (*p == *s) {
				p++;
				s++;
				continue;
			}
		}
		/* backtrack: let the last star take one more character */
		if (star_p == NULL || (path && *star_s == '/'))
			return 0;
		p = star_p;
		s = ++star_s;
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

static const char *
component_end(const char *s)
{
	const char *e = strchr(s, '/');

	return e != NULL ? e : s + strlen(s);
}

/* Returns the component after the one at s, or NULL after the last. */
static const char *
next_component(const char *s)
{
	const char *e = component_end(s);

	return *e == '/' ? e + 1 : NULL;
}

static int
is_globstar(const char *p)
{
	return p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == '\0');
}

/*
 * Path match: '**' as a whole component spans any number of components.
 * Components play the part characters play in match_text, and '**' that
 * of '*': only the last '**' seen needs to be retried, so the work stays
 * linear in the number of patterns times components, however many '**'.
 * A NULL position means all components are used up.
 */
static int
match_path(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	int star = 0;

	for (;;) {
		if (p != NULL && is_globstar(p)) {
			p = next_component(p);
			star_p = p;
			star_s = s;
			star = 1;
			continue;
		}
		if (s == NULL)
			return p == NULL;
		if (p != NULL && match_text(p, component_end(p), s,
		    component_end(s), 1)) {
			p = next_component(p);
			s = next_component(s);
			continue;
		}
		/* let the last '**' take one more component */
		if (!star)
			return 0;
		p = star_p;
		s = star_s = next_component(star_s);
	}
}

int
glob_match(const char *pat, const char *s, int mode)
{
	if (mode == GLOB_PATH)
		return match_path(pat, s);
	return match_text(pat, pat + strlen(pat), s, s + strlen(s), 0);
}

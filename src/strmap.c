/*
 * An open-addressing hash table (FNV-1a, linear probing, grown at three
 * quarters full) over keys kept in blocks of the map's own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "util.h"

#define BLOCK	(64u * 1024)

struct slot {
	const char *key;	/* NULL: empty */
	uint64_t hash;
	size_t value;
};

struct block {
	struct block *next;
	size_t used, size;
	char data[];
};

struct strmap {
	struct slot *v;
	size_t cap, n;		/* cap is a power of two */
	struct block *blocks;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct strmap *
strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof(*m));

	m->cap = 64;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	return m;
}

void
strmap_free(struct strmap *m)
{
	struct block *b, *next;

	if (m == NULL)
		return;
	for (b = m->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(m->v);
	free(m);
}

char *
strmap_strdup(struct strmap *m, const char *s)
{
	size_t n = strlen(s) + 1, size;
	struct block *b = m->blocks;
	char *p;

	if (b == NULL || b->size - b->used < n) {
		size = n > BLOCK / 4 ? n : BLOCK;
		b = xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		if (size == BLOCK || m->blocks == NULL) {
			b->next = m->blocks;
			m->blocks = b;
		} else {	/* a big one: keep the current block in front */
			b->next = m->blocks->next;
			m->blocks->next = b;
		}
	}
	p = b->data + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

static struct slot *
find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->v[i].key != NULL && (m->v[i].hash != h ||
	    strcmp(m->v[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

static void
grow(struct strmap *m)
{
	struct slot *old = m->v;
	size_t i, oldcap = m->cap;

	m->cap *= 2;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	for (i = 0; i < oldcap; i++)
		if (old[i].key != NULL)
			*find(m, old[i].key, old[i].hash) = old[i];
	free(old);
}

size_t *
strmap_put(struct strmap *m, const char *key, const char **keyp, int *added)
{
	uint64_t h = hash(key);
	struct slot *s = find(m, key, h);

	if (added != NULL)
		*added = s->key == NULL;
	if (s->key == NULL) {
		if ((m->n + 1) * 4 > m->cap * 3) {
			grow(m);
			s = find(m, key, h);
		}
		s->key = strmap_strdup(m, key);
		s->hash = h;
		s->value = 0;
		m->n++;
	}
	if (keyp != NULL)
		*keyp = s->key;
	return &s->value;
}

size_t *
strmap_get(const struct strmap *m, const char *key)
{
	struct slot *s = find(m, key, hash(key));

	return s->key != NULL ? &s->value : NULL;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->n;
}

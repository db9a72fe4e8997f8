/*
 * strmap: strings mapped to indexes, for the readers that look each of
 * a hundred thousand records up by its path or id (verify, report),
 * where a list searched from the start costs the square of the
 * history. Keys are copied into the map's own blocks, as are the
 * strings a caller keeps with strmap_strdup: one allocation a few
 * thousand strings, all freed with the map.
 */
#ifndef AE_STRMAP_H
#define AE_STRMAP_H

#include <stddef.h>

struct strmap;

/* Returns an empty map (free with strmap_free). */
struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);

/*
 * Returns the value of key, adding it with value 0 if absent (*added, if
 * not NULL, says which). *keyp (may be NULL) receives the map's copy of
 * key, which lives as long as the map. The pointer returned is valid
 * until the next strmap_put.
 */
size_t *strmap_put(struct strmap *m, const char *key, const char **keyp,
    int *added);

/* Returns the value of key, or NULL if absent. */
size_t *strmap_get(const struct strmap *m, const char *key);

/* Returns the number of keys. */
size_t strmap_count(const struct strmap *m);

/* Returns a copy of s that lives as long as m. */
char *strmap_strdup(struct strmap *m, const char *s);

#endif

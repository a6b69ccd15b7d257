#include <stdlib.h>
#include <string.h>
#include "calc.h"

#define BUCKETS 64

struct entry {
	struct entry *next;
	char name[32];
	long value;
	int is_fn;
	char param[32];
	struct node *body;
};

static struct entry *buckets[BUCKETS];
static size_t count;

static struct entry *find(const char *name, int create)
{
	struct entry **b = &buckets[hash_str(name) % BUCKETS];
	for (struct entry *e = *b; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	if (!create)
		return NULL;
	struct entry *e = xmalloc(sizeof(*e));
	memset(e, 0, sizeof(*e));
	strncpy(e->name, name, sizeof(e->name) - 1);
	e->next = *b;
	*b = e;
	count++;
	return e;
}

void table_set(const char *name, long value)
{
	find(name, 1)->value = value;
}

int table_get(const char *name, long *value)
{
	struct entry *e = find(name, 0);
	if (!e || e->is_fn)
		return -1;
	*value = e->value;
	return 0;
}

void table_def(const char *name, const char *param, struct node *body)
{
	struct entry *e = find(name, 1);
	e->is_fn = 1;
	strncpy(e->param, param, sizeof(e->param) - 1);
	e->body = body;
}

struct node *table_fn(const char *name, const char **param)
{
	struct entry *e = find(name, 0);
	if (!e || !e->is_fn)
		return NULL;
	*param = e->param;
	return e->body;
}

size_t table_size(void)
{
	return count;
}

void table_clear(void)
{
	for (int i = 0; i < BUCKETS; i++)
		while (buckets[i]) {
			struct entry *e = buckets[i];
			buckets[i] = e->next;
			free(e);
		}
	count = 0;
}

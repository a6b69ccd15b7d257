/* calc: a small calculator language (variables, functions of one
 * argument, while loops, print), built by tests/scripts/make_j2.sh and
 * bench/make_j2 as a small multi-file C project. */
#ifndef CALC_H
#define CALC_H
#include <stddef.h>

enum tok { T_END, T_NUM, T_NAME, T_OP, T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_SEMI, T_ASSIGN, T_COMMA };

struct token {
	enum tok kind;
	long num;
	char text[32];
};

/* lexer.c */
void lex_init(const char *src);
struct token lex_next(void);
struct token lex_peek(void);

/* parser.c: the syntax tree */
enum node_kind { N_NUM, N_VAR, N_BIN, N_ASSIGN, N_CALL, N_WHILE, N_IF, N_PRINT, N_BLOCK, N_DEF };
struct node {
	enum node_kind kind;
	long num;
	char name[32];
	char op[3];
	struct node *a, *b, *c;
	struct node **kids;
	size_t nkids;
};
struct node *node_new(enum node_kind kind);
void node_add(struct node *block, struct node *kid);
void node_free(struct node *n);
size_t node_count(const struct node *n);

/* parser.c: the parser */
struct node *parse_program(const char *src);

/* table.c: names to values and to functions */
void table_set(const char *name, long value);
int table_get(const char *name, long *value);
void table_def(const char *name, const char *param, struct node *body);
struct node *table_fn(const char *name, const char **param);
size_t table_size(void);
void table_clear(void);

/* eval.c */
long eval(struct node *n);
extern long eval_steps;

/* util.c */
void *xmalloc(size_t n);
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
unsigned long hash_str(const char *s);
#endif

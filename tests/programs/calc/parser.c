#include <stdlib.h>
#include <string.h>
#include "calc.h"

static struct node *expr(void);
static struct node *statement(void);

static struct token expect_tok(enum tok kind, const char *what)
{
	struct token t = lex_next();
	if (t.kind != kind)
		die("expected %s, got '%s'", what, t.text);
	return t;
}

static struct node *primary(void)
{
	struct token t = lex_next();
	struct node *n;
	switch (t.kind) {
	case T_NUM:
		n = node_new(N_NUM);
		n->num = t.num;
		return n;
	case T_NAME:
		if (lex_peek().kind == T_LPAREN) {
			lex_next();
			n = node_new(N_CALL);
			strcpy(n->name, t.text);
			n->a = expr();
			expect_tok(T_RPAREN, "')'");
			return n;
		}
		n = node_new(N_VAR);
		strcpy(n->name, t.text);
		return n;
	case T_LPAREN:
		n = expr();
		expect_tok(T_RPAREN, "')'");
		return n;
	case T_OP:
		if (!strcmp(t.text, "-")) {
			n = node_new(N_BIN);
			strcpy(n->op, "-");
			n->a = node_new(N_NUM);
			n->b = primary();
			return n;
		}
		/* fall through */
	default:
		die("unexpected '%s'", t.text);
	}
}

static int prec(const char *op)
{
	static const struct { const char *op; int prec; } table[] = {
		{ "||", 1 }, { "&&", 2 }, { "==", 3 }, { "!=", 3 }, { "<", 4 }, { ">", 4 },
		{ "<=", 4 }, { ">=", 4 }, { "+", 5 }, { "-", 5 }, { "*", 6 }, { "/", 6 }, { "%", 6 },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(op, table[i].op))
			return table[i].prec;
	return 0;
}

/* Precedence climbing. */
static struct node *binary(int min)
{
	struct node *lhs = primary();
	for (;;) {
		struct token t = lex_peek();
		int p = t.kind == T_OP ? prec(t.text) : 0;
		if (p < min || p == 0)
			return lhs;
		lex_next();
		struct node *n = node_new(N_BIN);
		strcpy(n->op, t.text);
		n->a = lhs;
		n->b = binary(p + 1);
		lhs = n;
	}
}

static struct node *expr(void)
{
	return binary(1);
}

static struct node *block(void)
{
	struct node *b = node_new(N_BLOCK);
	expect_tok(T_LBRACE, "'{'");
	while (lex_peek().kind != T_RBRACE)
		node_add(b, statement());
	lex_next();
	return b;
}

static struct node *statement(void)
{
	struct token t = lex_peek();
	struct node *n;
	if (t.kind == T_NAME && !strcmp(t.text, "while")) {
		lex_next();
		n = node_new(N_WHILE);
		n->a = expr();
		n->b = block();
		return n;
	}
	if (t.kind == T_NAME && !strcmp(t.text, "if")) {
		lex_next();
		n = node_new(N_IF);
		n->a = expr();
		n->b = block();
		struct token e = lex_peek();
		if (e.kind == T_NAME && !strcmp(e.text, "else")) {
			lex_next();
			n->c = block();
		}
		return n;
	}
	if (t.kind == T_NAME && !strcmp(t.text, "print")) {
		lex_next();
		n = node_new(N_PRINT);
		n->a = expr();
		expect_tok(T_SEMI, "';'");
		return n;
	}
	if (t.kind == T_NAME && !strcmp(t.text, "def")) {
		lex_next();
		n = node_new(N_DEF);
		strcpy(n->name, expect_tok(T_NAME, "a function name").text);
		expect_tok(T_LPAREN, "'('");
		strcpy(n->op, "");
		struct node *param = node_new(N_VAR);
		strcpy(param->name, expect_tok(T_NAME, "a parameter").text);
		n->c = param;
		expect_tok(T_RPAREN, "')'");
		n->a = block();
		return n;
	}
	struct node *e = expr();
	if (e->kind == N_VAR && lex_peek().kind == T_ASSIGN) {
		lex_next();
		n = node_new(N_ASSIGN);
		strcpy(n->name, e->name);
		node_free(e);
		n->a = expr();
		e = n;
	}
	expect_tok(T_SEMI, "';'");
	return e;
}

struct node *parse_program(const char *src)
{
	lex_init(src);
	struct node *prog = node_new(N_BLOCK);
	while (lex_peek().kind != T_END)
		node_add(prog, statement());
	return prog;
}


struct node *node_new(enum node_kind kind)
{
	struct node *n = xmalloc(sizeof(*n));
	*n = (struct node){ .kind = kind };
	return n;
}

void node_add(struct node *block, struct node *kid)
{
	if ((block->nkids & (block->nkids - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
		size_t cap = block->nkids ? block->nkids * 2 : 1;
		struct node **k = realloc(block->kids, cap * sizeof(*k));
		if (!k)
			die("out of memory");
		block->kids = k;
	}
	block->kids[block->nkids++] = kid;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	node_free(n->a);
	node_free(n->b);
	node_free(n->c);
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n);
}

size_t node_count(const struct node *n)
{
	if (!n)
		return 0;
	size_t c = 1 + node_count(n->a) + node_count(n->b) + node_count(n->c);
	for (size_t i = 0; i < n->nkids; i++)
		c += node_count(n->kids[i]);
	return c;
}

#include <ctype.h>
#include <string.h>
#include "calc.h"

static const char *p;
static struct token peeked;
static int have_peeked;

void lex_init(const char *src)
{
	p = src;
	have_peeked = 0;
}

static struct token scan(void)
{
	struct token t = { T_END, 0, "" };
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '#')
			break;
		while (*p && *p != '\n')
			p++;
	}
	if (!*p)
		return t;
	if (isdigit((unsigned char)*p)) {
		t.kind = T_NUM;
		while (isdigit((unsigned char)*p))
			t.num = t.num * 10 + (*p++ - '0');
		return t;
	}
	if (isalpha((unsigned char)*p) || *p == '_') {
		size_t n = 0;
		t.kind = T_NAME;
		while ((isalnum((unsigned char)*p) || *p == '_') && n < sizeof(t.text) - 1)
			t.text[n++] = *p++;
		t.text[n] = 0;
		return t;
	}
	static const char *two[] = { "==", "!=", "<=", ">=", "&&", "||" };
	for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
		if (!strncmp(p, two[i], 2)) {
			t.kind = T_OP;
			memcpy(t.text, p, 2);
			t.text[2] = 0;
			p += 2;
			return t;
		}
	char c = *p++;
	t.text[0] = c;
	t.text[1] = 0;
	switch (c) {
	case '(': t.kind = T_LPAREN; break;
	case ')': t.kind = T_RPAREN; break;
	case '{': t.kind = T_LBRACE; break;
	case '}': t.kind = T_RBRACE; break;
	case ';': t.kind = T_SEMI; break;
	case ',': t.kind = T_COMMA; break;
	case '=': t.kind = T_ASSIGN; break;
	case '+': case '-': case '*': case '/': case '%': case '<': case '>':
		t.kind = T_OP;
		break;
	default:
		die("unexpected character '%c'", c);
	}
	return t;
}

struct token lex_next(void)
{
	if (have_peeked) {
		have_peeked = 0;
		return peeked;
	}
	return scan();
}

struct token lex_peek(void)
{
	if (!have_peeked) {
		peeked = scan();
		have_peeked = 1;
	}
	return peeked;
}

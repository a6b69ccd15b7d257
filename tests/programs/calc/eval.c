#include <stdio.h>
#include <string.h>
#include "calc.h"

long eval_steps;

static long binop(const char *op, long a, long b)
{
	switch (op[0]) {
	case '+': return a + b;
	case '-': return a - b;
	case '*': return a * b;
	case '/': if (!b) die("division by zero"); return a / b;
	case '%': if (!b) die("division by zero"); return a % b;
	case '<': return op[1] == '=' ? a <= b : a < b;
	case '>': return op[1] == '=' ? a >= b : a > b;
	case '=': return a == b;
	case '!': return a != b;
	case '&': return a && b;
	case '|': return a || b;
	}
	die("bad operator %s", op);
}

static long call(const char *name, long arg)
{
	const char *param;
	struct node *body = table_fn(name, &param);
	if (!body)
		die("no function %s", name);
	long saved, had = !table_get(param, &saved);
	table_set(param, arg);
	table_set("result", 0);
	eval(body);
	long r;
	table_get("result", &r);
	if (had)
		table_set(param, saved);
	return r;
}

long eval(struct node *n)
{
	long v = 0;
	eval_steps++;
	switch (n->kind) {
	case N_NUM:
		return n->num;
	case N_VAR:
		if (table_get(n->name, &v))
			die("no variable %s", n->name);
		return v;
	case N_BIN:
		if (!strcmp(n->op, "&&"))
			return eval(n->a) && eval(n->b);
		if (!strcmp(n->op, "||"))
			return eval(n->a) || eval(n->b);
		return binop(n->op, eval(n->a), eval(n->b));
	case N_ASSIGN:
		v = eval(n->a);
		table_set(n->name, v);
		return v;
	case N_CALL:
		return call(n->name, eval(n->a));
	case N_WHILE:
		while (eval(n->a))
			v = eval(n->b);
		return v;
	case N_IF:
		if (eval(n->a))
			return eval(n->b);
		return n->c ? eval(n->c) : 0;
	case N_PRINT:
		v = eval(n->a);
		printf("%ld\n", v);
		return v;
	case N_BLOCK:
		for (size_t i = 0; i < n->nkids; i++)
			v = eval(n->kids[i]);
		return v;
	case N_DEF:
		table_def(n->name, n->c->name, n->a);
		return 0;
	}
	return 0;
}

#include <stdio.h>
#include <stdlib.h>
#include "calc.h"

/* calc [FILE]: runs the program in FILE (or stdin). */
int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : stdin;
	if (!f)
		die("cannot open %s", argv[1]);
	static char src[1 << 16];
	size_t n = fread(src, 1, sizeof(src) - 1, f);
	src[n] = 0;
	struct node *prog = parse_program(src);
	size_t nodes = node_count(prog);
	eval(prog);
	fprintf(stderr, "calc: %zu nodes, %zu names, %ld steps\n", nodes, table_size(), eval_steps);
	node_free(prog);
	table_clear();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for perfc's reader of iproute2's rt_tables and
 * rt_protos files (tools/perfc/names.c, load_stream): the input is read as
 * both files. Oracles: every name it keeps is non-empty, shorter than
 * PC_NAME_LEN and without blanks; a name that is not a number resolves
 * back (pc_names_table_id / pc_names_proto_id) to an id that has that very
 * name; ids nobody named print as their number; nothing leaks (ASan).
 */
#include <stdlib.h>
#include <string.h>

#include "args.c"
#include "nl.c"
#include "../../tools/perfc/names.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	if (!*s || strlen(s) >= PC_NAME_LEN || strpbrk(s, " \t\n"))
		abort();
}

static void check_table(const struct pc_names *n, uint32_t id)
{
	char name[PC_NAME_LEN], back[PC_NAME_LEN];
	uint32_t got;
	uint64_t v;

	pc_names_table(n, id, name, sizeof(name));
	check_name(name);
	if (mp_parse_u64(name, 0, UINT32_MAX, &v) == 0)
		return;		/* a number (unnamed, or named like one) */
	if (pc_names_table_id(n, name, &got) != 0)
		abort();
	pc_names_table(n, got, back, sizeof(back));
	if (strcmp(back, name))
		abort();
}

static void check_proto(const struct pc_names *n, unsigned id)
{
	char name[PC_NAME_LEN], back[PC_NAME_LEN];
	unsigned got;
	uint64_t v;

	pc_names_proto(n, id, name, sizeof(name));
	check_name(name);
	if (mp_parse_u64(name, 0, 255, &v) == 0)
		return;
	if (pc_names_proto_id(n, name, &got) != 0)
		abort();
	pc_names_proto(n, got, back, sizeof(back));
	if (strcmp(back, name))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_names *n = NULL;
	FILE *f;

	if (size == 0 || pc_names_new(&n) < 0)
		return 0;
	for (int tables = 0; tables < 2; tables++) {
		f = fmemopen((void *)data, size, "r");
		if (!f)
			break;
		load_stream(n, f, tables);
		fclose(f);
	}
	for (uint32_t id = 0; id < 256; id++) {
		check_table(n, id);
		check_proto(n, id);
	}
	for (size_t i = 0; i < n->n_table_big; i++)
		check_table(n, n->table_big[i].id);
	check_table(n, UINT32_MAX);
	pc_names_free(n);
	return 0;
}

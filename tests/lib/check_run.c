// SPDX-License-Identifier: GPL-2.0-only
/* check_run.c - see check_run.h. */
#include <stdlib.h>

#include "check_run.h"

int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

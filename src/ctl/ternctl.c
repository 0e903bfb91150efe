/* ternctl: the operator's command line for ternd (man ternctl). */
#include <stdio.h>

#include "ctl/ctl_main.h"

int
main(int argc, char **argv)
{
	return ctl_main_run(argc, argv, stdout, stderr);
}

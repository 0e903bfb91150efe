/*
 * Corpus replayer for builds without libFuzzer: feeds every file under the given
 * paths (files or directories, one level deep) to LLVMFuzzerTestOneInput once.
 * A crash or sanitizer report fails the test; an unreadable path fails it too, so a
 * missing corpus is never a silent pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_replay_file(const char *path)
{
	uint8_t *data;
	long size;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "fuzz-replay: cannot open %s\n", path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	/* An exact-size heap copy, so ASan sees any read past the input. */
	data = malloc(size > 0 ? (size_t)size : 1);
	if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)size);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int files = 0, failures = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz-replay: no such corpus %s\n", argv[i]);
			failures++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failures += fuzz_replay_file(argv[i]) < 0;
			files++;
			continue;
		}
		dir = opendir(argv[i]);
		if (dir == NULL) {
			failures++;
			continue;
		}
		while ((de = readdir(dir)) != NULL) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			failures += fuzz_replay_file(path) < 0;
			files++;
		}
		closedir(dir);
	}
	printf("fuzz-replay: %d inputs, %d unreadable\n", files, failures);
	return failures == 0 && files > 0 ? 0 : 1;
}

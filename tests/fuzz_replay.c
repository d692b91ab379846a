/*
 * fuzz_replay.c: runs a fuzz target's LLVMFuzzerTestOneInput (fuzz/fuzz_NAME.c)
 * on every file of its corpus (fuzz/corpus/NAME/), in the ordinary
 * sanitized build, so that `make test` catches a harness gone stale
 * against the code it checks, or a corpus input that fails again (CTest
 * fuzz_replay_NAME; the targets are listed in CMakeLists.txt).
 *
 *   fuzz_replay_NAME DIR
 *
 * A target that finds a disagreement aborts, which fails the test.  Exit 1
 * when DIR holds no file.  Each file is read whole into a buffer of its
 * own size (malloc'd and freed per file), so a read past it is caught.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        if (stat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        FILE *f = fopen(path, "rb");
        uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
        if (!f || !buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            fprintf(stderr, "fuzz_replay: reading %s failed\n", path);
            return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
        free(buf);
        files++;
    }
    closedir(d);
    printf("%zu inputs of %s replayed\n", files, argv[1]);
    return files ? 0 : 1;
}

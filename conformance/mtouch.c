/* mtouch PATH LEN [STEP]: mmap PATH (a /dev/daxX.Y or a file on a DAX fs) MAP_SHARED, write and read
 * back one byte every STEP bytes (default 2 MiB), print what happened. Each first touch of a devdax
 * mapping goes through the dax fault handler, which reads and writes the struct page of the pfn. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: mtouch PATH LEN [STEP]\n"); return 2; }
  size_t len = strtoull(argv[2], 0, 0), step = argc > 3 ? strtoull(argv[3], 0, 0) : 2 << 20;
  int fd = open(argv[1], O_RDWR);
  if (fd < 0) { perror("open"); return 1; }
  volatile unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  size_t n = 0;
  for (size_t off = 0; off < len; off += step) {
    if (off % (1 << 20) == 0) { printf("mtouch: %s +0x%zx\n", argv[1], off); fflush(stdout); }
    p[off] = 0x5a; if (p[off] != 0x5a) { printf("mtouch: mismatch at 0x%zx\n", off); return 1; }
    n++;
  }
  printf("mtouch: %s touched %zu pages OK\n", argv[1], n);
  return 0;
}

// Counts heap allocations for the benchmarks by interposing the malloc family in the
// executable that links this file (glibc exports the real implementations as __libc_*).
#include "CAllocationCounter.h"
#include <stddef.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <errno.h>
#include <malloc.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile uint64_t allocations;

void *malloc(size_t size) { __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED); return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t size) { __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
  void *p = memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
uint64_t ntstat_allocation_count(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }
int ntstat_allocation_counting_available(void) { return 1; }
uint64_t ntstat_heap_bytes_in_use(void) { return (uint64_t)mallinfo2().uordblks; }
#else
uint64_t ntstat_heap_bytes_in_use(void) { return 0; }
uint64_t ntstat_allocation_count(void) { return 0; }
int ntstat_allocation_counting_available(void) { return 0; }
#endif

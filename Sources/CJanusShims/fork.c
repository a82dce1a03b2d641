// Process-wide values and what a fork() must repair, in plain C (janus_shims.h says why).
//
// The hang this file prevents: the Swift runtime's once (behind every lazy global, and inside
// the runtime itself, e.g. generic metadata) is a priority-inheritance futex whose lock word
// holds the owner's thread id, and each thread caches its id in a thread-local the first time
// it takes such a lock (swift/Threading/Impl/Linux/ulock.h, `ulock_get_tid`). fork() copies the
// calling thread with its thread-locals, so the child's first thread carries its parent's id.
// When that thread runs a once that another thread of the child then waits for, the kernel
// refuses the unlock (the word's id is not the caller's) and every waiter sleeps forever.
// glibc's own locks read the id from the thread descriptor, which fork updates; the runtime's
// cache is not updated, so the child handler below clears it: the next lock reads the real id.
//
// The cache is a thread-local of whichever module holds the Swift runtime: libjanus.so itself
// (the shipped build links the runtime in) or libswiftCore.so (Swift programs, `swift test`).
// It is not exported, so it is found by name in that module's symbol table (.symtab, which
// `make install` keeps), once, the first time the process forks; the calling thread's copy is
// then located with dlinfo(RTLD_DI_TLS_DATA) in the prepare handler, which runs on the thread
// that forks, and cleared in the child, where that thread goes on.
#define _GNU_SOURCE

#include "janus_shims.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned long shim_fork_generation_value;
long shim_online_cores_value = 1;
long shim_spinners_value;
unsigned long shim_select_calls_value;

static int g_tasks_started;   /* __atomic: this process may have started Swift tasks */
static int g_tasks_inherited; /* only the child handler writes it, before any other thread */

void shim_note_tasks_started(void) { __atomic_store_n(&g_tasks_started, 1, __ATOMIC_RELAXED); }
int shim_tasks_inherited(void) { return __atomic_load_n(&g_tasks_inherited, __ATOMIC_RELAXED); }

/* ---- Finding the runtime's cached thread id ---- */

#define RUNTIME_TID_SYMBOL "_ZZN5swift14threading_impl5linux13ulock_get_tidEvE3tid"

static pthread_mutex_t g_find_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_searched;          /* under g_find_lock */
static void *g_runtime_module;  /* a dlopen handle of the module that holds the symbol */
static size_t g_tid_offset;     /* the symbol's offset in that module's thread-local block */
static int *g_forking_tid;      /* the forking thread's copy; set in prepare, used in child */

/* The value of a thread-local symbol defined in the ELF file at `path`, or 0 when the file has
 * no symbol table or not that symbol (a stripped file). */
static int tls_symbol_offset(const char *path, size_t *offset_out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    int found = 0;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(ElfW(Ehdr))) {
        size_t size = (size_t)st.st_size;
        const unsigned char *file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (file != MAP_FAILED) {
            const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)file;
            if (memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_shoff > 0 &&
                eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) <= size) {
                const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(file + eh->e_shoff);
                for (int i = 0; i < eh->e_shnum && !found; i++) {
                    if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
                    const ElfW(Shdr) *strs = &sh[sh[i].sh_link];
                    if (sh[i].sh_offset + sh[i].sh_size > size || strs->sh_offset + strs->sh_size > size)
                        continue;
                    const ElfW(Sym) *syms = (const ElfW(Sym) *)(file + sh[i].sh_offset);
                    size_t count = sh[i].sh_size / sizeof(ElfW(Sym));
                    const char *names = (const char *)(file + strs->sh_offset);
                    for (size_t k = 0; k < count; k++) {
                        if (ELF64_ST_TYPE(syms[k].st_info) != STT_TLS || syms[k].st_shndx == SHN_UNDEF)
                            continue;
                        if (syms[k].st_name >= strs->sh_size) continue;
                        if (strcmp(names + syms[k].st_name, RUNTIME_TID_SYMBOL) != 0) continue;
                        *offset_out = syms[k].st_value;
                        found = 1;
                        break;
                    }
                }
            }
            munmap((void *)file, size);
        }
    }
    close(fd);
    return found;
}

static int find_in_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    int has_tls = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_TLS) has_tls = 1;
    if (!has_tls) return 0;
    int main_program = info->dlpi_name == NULL || info->dlpi_name[0] == '\0';
    const char *path = main_program ? "/proc/self/exe" : info->dlpi_name;
    size_t offset;
    if (!tls_symbol_offset(path, &offset)) return 0;
    void *handle = main_program ? dlopen(NULL, RTLD_LAZY) : dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
    if (handle == NULL) return 0;
    g_runtime_module = handle;
    g_tid_offset = offset;
    return 1; /* the first module that defines it: there is one Swift runtime */
}

/* The calling thread's copy of the runtime's cached id, or NULL; under g_find_lock. */
static int *own_cached_tid(void) {
    if (!g_searched) {
        g_searched = 1;
        dl_iterate_phdr(find_in_module, NULL);
    }
    void *block = NULL;
    if (g_runtime_module && dlinfo(g_runtime_module, RTLD_DI_TLS_DATA, &block) == 0 && block != NULL)
        return (int *)((char *)block + g_tid_offset);
    return NULL;
}

static void (*g_warm_up)(void); /* set by a constructor, before any thread can fork */
static pthread_once_t g_warmed = PTHREAD_ONCE_INIT;

void shim_set_fork_warm_up(void (*warm_up)(void)) { g_warm_up = warm_up; }

static void run_warm_up(void) {
    if (g_warm_up) g_warm_up();
}

static void prepare(void) {
    pthread_once(&g_warmed, run_warm_up);
    pthread_mutex_lock(&g_find_lock);
    g_forking_tid = own_cached_tid();
    /* Held across the fork: two threads forking at once each find their own copy. */
}

static void parent(void) { pthread_mutex_unlock(&g_find_lock); }

static void child(void) {
    if (g_forking_tid) *g_forking_tid = 0; /* the runtime reads gettid() again on its next lock */
    g_forking_tid = NULL;
    shim_fork_generation_value++;
    shim_spinners_value = 0;
    if (g_tasks_started) g_tasks_inherited = 1;
    /* prepare() locked it on the thread that forked, which in the child is this one. */
    pthread_mutex_unlock(&g_find_lock);
}

int shim_runtime_cached_tid(void) {
    pthread_mutex_lock(&g_find_lock);
    int *tid = own_cached_tid();
    int value = tid ? *tid : -1;
    pthread_mutex_unlock(&g_find_lock);
    return value;
}

__attribute__((constructor)) static void shim_load(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    shim_online_cores_value = cores > 0 ? cores : 1;
    pthread_atfork(prepare, parent, child);
}

/* Stands in for libx265 in the desktop build (console.spec): the console never encodes HEVC,
 * but PyAV's libavcodec links libx265 (21 MB) for its libx265 encoder. libavcodec imports one
 * symbol, x265_api_get_<build>; this one returns an API table whose param_alloc returns NULL,
 * so opening the encoder fails cleanly ("Could not allocate x265 param structure", ENOMEM)
 * and its cleanup finds functions that do nothing. Built with -DX265_BUILD=<soname number>. */
#include <stddef.h>

static void *nothing(void) { return NULL; }

typedef void *(*fn)(void);
static struct {
    int ints[8];          /* api_major_version ... bit_depth */
    const char *strs[2];  /* version_str, build_info_str */
    fn fns[256];          /* param_alloc, param_free, ... (x265_api has about 60) */
} api;

#define NAME2(b) x265_api_get_##b
#define NAME(b) NAME2(b)
const void *NAME(X265_BUILD)(int bit_depth) {
    (void)bit_depth;
    if (!api.fns[0]) {
        api.ints[1] = X265_BUILD;
        api.ints[7] = 8;
        api.strs[0] = api.strs[1] = "unavailable in this build";
        for (size_t i = 0; i < sizeof api.fns / sizeof api.fns[0]; i++) api.fns[i] = nothing;
    }
    return &api;
}

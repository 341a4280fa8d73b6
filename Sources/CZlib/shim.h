#ifndef CHESS_CZLIB_SHIM_H
#define CHESS_CZLIB_SHIM_H
#include <zlib.h>

/// zlib's inflateInit2 is a macro, which Swift cannot call; this wraps it.
static inline int chess_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif

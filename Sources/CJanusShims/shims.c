// SwiftPM wants one source file per C target; everything lives in the header.
#include "janus_shims.h"

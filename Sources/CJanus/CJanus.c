// CJanus only carries include/janus.h into Swift; SwiftPM wants one source file per C target.
#include "../../include/janus.h"

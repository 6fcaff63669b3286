/* size_lib - the library alone in one translation unit, for "make size": compiled to an
   object file whose sections the size command reports. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../../oss_resumable.h"

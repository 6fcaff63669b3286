/* Compile check: OSS_RESUMABLE_STATIC keeps the library private to each translation unit,
   so two units may both carry the implementation and link together. Built twice, with
   -DTU_MAIN in one of them. */
#define OSS_RESUMABLE_STATIC
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

int other_unit_crc(void);
#ifdef TU_MAIN
int main(void) {
    /* CRC-64 of "a" computed in both units must agree */
    return other_unit_crc() == (int)(ossr_crc64(0, "a", 1) & 0x7fff) ? 0 : 1;
}
#else
int other_unit_crc(void) { return (int)(ossr_crc64(0, "a", 1) & 0x7fff); }
#endif

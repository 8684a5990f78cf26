//===- crc32c.h - CRC-32C (Castagnoli), the checkpoints' checksum ----------===//
//
// CRC-32C as iSCSI (RFC 3720), ext4 and the safetensors checksums of other
// tools use it: polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value
// and final XOR 0xFFFFFFFF. crc32c("123456789") = 0xE3069283.
//
// Runs on the SSE4.2 instruction where the CPU has it (about 10x the
// table), else on a slicing-by-8 table; both give the same bits.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CRC32C_H
#define CLEAVE_RT_CRC32C_H

#include <cstddef>
#include <cstdint>

namespace cleave::rt {

/// The CRC-32C of `bytes` bytes at `data`, continuing from `crc` (the
/// result of a previous call on the bytes before them; 0 to start):
/// crc32c(b, n, crc32c(a, m)) is the CRC of a followed by b.
uint32_t crc32c(const void *data, size_t bytes, uint32_t crc = 0);

/// The same, always on the table; for the tests of the hardware path.
uint32_t crc32c_portable(const void *data, size_t bytes, uint32_t crc = 0);

/// Whether crc32c uses the CPU's CRC32 instruction.
bool crc32c_hardware();

} // namespace cleave::rt

#endif // CLEAVE_RT_CRC32C_H

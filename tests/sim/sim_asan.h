/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AddressSanitizer hooks for the simulator's memory pools: the DMA pool and
 * the device's view of it are poisoned outside live blocks, so that a stray
 * access by the library or by a device model is caught. Without ASan the
 * macros do nothing.
 */
#ifndef VIO_SIM_ASAN_H
#define VIO_SIM_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif
#ifndef SIM_ASAN
#define SIM_ASAN 0
#endif

#if SIM_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) __asan_poison_memory_region((p), (n))
#define UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/*
 * For code that must touch whole cache lines, which reach past the bytes a
 * block (or a caller's buffer) owns into poisoned red zones.
 */
#define SIM_NO_ASAN __attribute__((no_sanitize("address")))

#endif

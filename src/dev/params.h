/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A driver's run-time parameters (struct vio_*_params): 0 asks for the
 * build's default, and anything beyond what the driver can hold is cut to
 * its limit. Shared by every driver's params_of().
 */
#ifndef VIO_DEV_PARAMS_H
#define VIO_DEV_PARAMS_H

#include <stdint.h>

static inline uint32_t param_or(uint32_t v, uint32_t dflt, uint32_t max)
{
	if (!v)
		v = dflt;
	return v > max ? max : v;
}

#endif

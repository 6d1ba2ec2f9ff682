/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Template port: a vio port and OS hooks with every hook stubbed. Copy
 * ports/template/ to ports/<your-platform>/, rename, and fill in each hook
 * as its comment in vio_port_template.c says.
 */
#ifndef VIO_PORT_TEMPLATE_H
#define VIO_PORT_TEMPLATE_H

#include <vio/port.h>

/* Prepare the platform side (DMA pool, timer) once, before vio_init. */
void vio_template_init(void);

/* What to hand to vio_init(vio_template_port(), vio_template_os()). */
const struct vio_port *vio_template_port(void);
const struct vio_os *vio_template_os(void);

#endif

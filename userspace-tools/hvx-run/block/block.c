// SPDX-License-Identifier: GPL-2.0
/* block/block.c - opening a disk image with the backend of its format. */
#include "block/block.h"

/* Raw is the one format so far; the next one brings a format= option and probing. */
const char *block_open(struct block *b, const char *path, bool ro)
{
	b->ops = &block_raw_ops;
	b->path = path;
	b->ro = ro;
	return b->ops->open(b, path);
}

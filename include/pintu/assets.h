/*
 * assets.h - the staff console files (everything in gateway/web), compiled in by
 * gateway/embed-web.sh so the binary serves them without a document root.
 */
#ifndef PT_ASSETS_H
#define PT_ASSETS_H

#include <stddef.h>

struct pt_asset {
	const char *name;          /* file name, e.g. "staff.html" */
	const char *content_type;
	const unsigned char *data; /* NUL-terminated copy of the file */
	size_t len;
};

/* Ends with an entry whose name is NULL. */
extern const struct pt_asset pt_web_assets[];
extern const int pt_web_nassets;

#endif

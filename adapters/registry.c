/*
 * registry.c - the table of adapters, looked up by the config "type".
 *
 * Adding a provider means one new adapters/<type>.c exporting a
 * struct pt_adapter and one line in the table below.
 */
#include <string.h>

#include "adapter_util.h"

/* Chat channels (declared here until adapter_util.h lists them). */
extern const struct pt_adapter pt_adapter_twilio;
extern const struct pt_adapter pt_adapter_telegram;
extern const struct pt_adapter pt_adapter_whatsapp;

static const struct pt_adapter *const adapters[] = {
	&pt_adapter_africastalking_ussd,
	&pt_adapter_africastalking_sms,
	&pt_adapter_kannel,
	&pt_adapter_generic_ussd,
	&pt_adapter_generic_sms,
	&pt_adapter_twilio,
	&pt_adapter_telegram,
	&pt_adapter_whatsapp,
	NULL,
};

/* The adapter whose type equals type, or NULL. */
const struct pt_adapter *pt_adapter_find(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; adapters[i]; i++)
		if (strcmp(adapters[i]->type, type) == 0)
			return adapters[i];
	return NULL;
}

/* Every adapter, NULL-terminated; the table is static. */
const struct pt_adapter *const *pt_adapter_all(void)
{
	return adapters;
}

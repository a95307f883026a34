/*
 * fuzz/adapter_generic_sms.c - libFuzzer harness for the "generic-sms" adapter: parse,
 * parse_status, render, build_send and parse_send on arbitrary input, under the
 * configurations below.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/form.h"

#define FZ_TYPE "generic-sms"

static const char *const fz_confs[] = {
	"{\"type\":\"generic-sms\"}",
	"{\"type\":\"generic-sms\",\"body\":\"json\",\"reply\":\"send\",\"fields\":{\"timestamp\":\"ts\"},\"send\":{\"url\":\"https://x.example/send?to={{to}}&id={{id}}\",\"headers\":[\"Authorization: Bearer ${PT_FUZZ_SECRET}\"],\"from\":\"DINSOS\",\"id_field\":\"data.0.id\",\"success_field\":\"ok\",\"success_value\":true},\"status_map\":{\"D\":\"delivered\"}}",
	"{\"type\":\"generic-sms\",\"send\":{\"url\":\"http://x/s\",\"content_type\":\"application/x-www-form-urlencoded\",\"body\":\"t={{text}}&n={{to}}\"},\"status_fields\":{\"reason\":\"why\"}}",
	"{\"type\":\"generic-sms\",\"send\":{\"url\":\"http://x/s\",\"method\":\"PUT\",\"content_type\":\"text/plain\"}}",
};

#include "adapter_driver.h"

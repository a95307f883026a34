/*
 * fuzz/adapter_generic_ussd.c - libFuzzer harness for the "generic-ussd" adapter: parse,
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

#define FZ_TYPE "generic-ussd"

static const char *const fz_confs[] = {
	"{\"type\":\"generic-ussd\"}",
	"{\"type\":\"generic-ussd\",\"body\":\"json\",\"reply\":\"json\",\"input\":\"newest\",\"fields\":{\"operation\":\"op\",\"message_id\":\"mid\"}}",
	"{\"type\":\"generic-ussd\",\"fields\":{\"operation\":\"op\"},\"reply\":\"json\",\"reply_fields\":{\"message\":\"m\",\"action\":\"a\",\"continue\":\"c\",\"end\":\"e\"}}",
};

#include "adapter_driver.h"

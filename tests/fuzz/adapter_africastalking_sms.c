/*
 * fuzz/adapter_africastalking_sms.c - libFuzzer harness for the "africastalking-sms" adapter: parse,
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

#define FZ_TYPE "africastalking-sms"

static const char *const fz_confs[] = {
	"{\"type\":\"africastalking-sms\",\"username\":\"sandbox\",\"api_key\":\"k\",\"from\":\"1708\"}",
	"{\"type\":\"africastalking-sms\",\"username\":\"u\",\"api_key_env\":\"PT_FUZZ_SECRET\",\"api_base\":\"https://api.sandbox.africastalking.com\"}",
};

#include "adapter_driver.h"

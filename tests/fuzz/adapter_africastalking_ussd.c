/*
 * fuzz/adapter_africastalking_ussd.c - libFuzzer harness for the "africastalking-ussd" adapter: parse,
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

#define FZ_TYPE "africastalking-ussd"

static const char *const fz_confs[] = {
	"{\"type\":\"africastalking-ussd\"}",
};

#include "adapter_driver.h"

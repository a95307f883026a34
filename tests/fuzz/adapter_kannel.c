/*
 * fuzz/adapter_kannel.c - libFuzzer harness for the "kannel" adapter: parse,
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

#define FZ_TYPE "kannel"

static const char *const fz_confs[] = {
	"{\"type\":\"kannel\"}",
	"{\"type\":\"kannel\",\"reply\":\"sendsms\",\"sendsms_url\":\"http://127.0.0.1:13013/cgi-bin/sendsms\",\"username\":\"u\",\"password_env\":\"PT_FUZZ_SECRET\",\"from\":\"1708\",\"smsc\":\"s\",\"dlr_url\":\"http://127.0.0.1:8080/webhooks/kannel/status?id={id}&type=%d\"}",
	"{\"type\":\"kannel\",\"fields\":{\"sender\":\"from\",\"text\":\"msg\"}}",
};

#include "adapter_driver.h"

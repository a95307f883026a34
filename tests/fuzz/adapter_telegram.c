/*
 * fuzz/adapter_telegram.c - libFuzzer harness for the "telegram" adapter:
 * parse (behind the secret token header), render, build_send and parse_send
 * on arbitrary input, under the configurations below. The secret is
 * "fuzz-secret" (PT_FUZZ_SECRET) so the seeds reach the JSON parsing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/form.h"

#define FZ_TYPE "telegram"

static const char *const fz_confs[] = {
	"{\"type\":\"telegram\",\"bot_token\":\"123456:ABC-DEF\",\"secret_token_env\":\"PT_FUZZ_SECRET\"}",
	"{\"type\":\"telegram\",\"bot_token\":\"1:A\",\"secret_token\":\"fuzz-secret\",\"api_base\":\"http://127.0.0.1:9098/\"}",
};

#include "adapter_driver.h"

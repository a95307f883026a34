/*
 * fuzz/adapter_twilio.c - libFuzzer harness for the "twilio" adapter: parse,
 * parse_status (both behind X-Twilio-Signature), render, build_send and
 * parse_send on arbitrary input, under the configurations below. The seeds in
 * corpus/adapter_twilio/ carry valid signatures for the first configuration
 * (auth token "fuzz-secret" from PT_FUZZ_SECRET) so field parsing is reached.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/form.h"

#define FZ_TYPE "twilio"

static const char *const fz_confs[] = {
	"{\"type\":\"twilio\",\"account_sid\":\"AC0123456789abcdef0123456789abcdef\",\"auth_token_env\":\"PT_FUZZ_SECRET\",\"from\":\"+14155550100\",\"public_url\":\"https://pintu.example.go.id/webhooks/twilio\"}",
	"{\"type\":\"twilio\",\"account_sid\":\"AC1\",\"auth_token\":\"fuzz-secret\",\"from\":\"whatsapp:+14155238886\",\"public_url\":\"https://pintu.example.go.id/webhooks/twilio-wa?x=1\",\"reply\":\"api\",\"status_callback\":\"https://pintu.example.go.id/webhooks/twilio-wa/status\"}",
	"{\"type\":\"twilio\",\"account_sid\":\"AC2\",\"auth_token\":\"t\",\"messaging_service_sid\":\"MG1\",\"public_url\":\"http://127.0.0.1:8080/webhooks/twilio\",\"api_base\":\"http://127.0.0.1:9099/\"}",
};

#include "adapter_driver.h"

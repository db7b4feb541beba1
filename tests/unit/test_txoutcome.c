/* Outcome judgement over every receipt: recorded answers (fixtures) and the
 * shapes nearcore documents: a failed receipt behind a top-level success,
 * failures, invalid transactions, answers below the wanted finality. */
#include <cjson/cJSON.h>

#include "../tap.h"
#include "test_near_util.h"
#include "txoutcome.h"

static int judge_text(const char *json, int want, struct txoutcome *o)
{
	cJSON *j = cJSON_Parse(json);
	if (!j)
		bail_out("bad JSON in the test: %s", json);
	int rc = txoutcome_judge(j, want, o);
	cJSON_Delete(j);
	return rc;
}

static int judge_fixture(const char *rel, int want, struct txoutcome *o)
{
	size_t n;
	char *text = read_srcdir_file(rel, &n);
	cJSON *j = cJSON_Parse(text);
	int rc = txoutcome_judge(cJSON_GetObjectItemCaseSensitive(j, "result"), want, o);
	cJSON_Delete(j);
	free(text);
	return rc;
}

#define OK_RECEIPT(status) "{\"id\":\"x\",\"outcome\":{\"executor_id\":\"a.near\",\"status\":" status "}}"

int main(void)
{
	struct txoutcome o;

	ok(judge_fixture("tests/fixtures/rpc/broadcast_tx_commit.response.json", TXL_EXECUTED, &o) == 0 &&
	   o.kind == TXO_SUCCEEDED && o.value_len == 0, "recorded FINAL transfer: succeeded, empty value");
	txoutcome_free(&o);
	ok(judge_fixture("tests/fixtures/rpc/EXPERIMENTAL_tx_status.response.json", TXL_FINAL, &o) == 0 &&
	   o.kind == TXO_SUCCEEDED, "recorded EXPERIMENTAL_tx_status: succeeded");
	txoutcome_free(&o);

	ok(judge_text("{\"final_execution_status\":\"EXECUTED\",\"status\":{\"SuccessValue\":\"dHJ1ZQ==\"},"
		      "\"receipts_outcome\":[" OK_RECEIPT("{\"SuccessValue\":\"dHJ1ZQ==\"}") "]}",
		      TXL_EXECUTED, &o) == 0 && o.kind == TXO_SUCCEEDED && o.value_len == 4 &&
	   !strcmp(o.value, "true"), "the value is the decoded SuccessValue");
	txoutcome_free(&o);

	ok(judge_text("{\"final_execution_status\":\"FINAL\",\"status\":{\"SuccessValue\":\"\"},"
		      "\"receipts_outcome\":[" OK_RECEIPT("{\"SuccessReceiptId\":\"y\"}") ","
		      OK_RECEIPT("{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{\"FunctionCallError\":"
				 "{\"ExecutionError\":\"Smart contract panicked: no\"}}}}}") ","
		      OK_RECEIPT("{\"SuccessValue\":\"\"}") "]}", TXL_EXECUTED, &o) == 0 &&
	   o.kind == TXO_FAILED && strstr(o.error, "Smart contract panicked: no"),
	   "a failed receipt behind a top-level SuccessValue is a failure: %s", o.error);
	txoutcome_free(&o);

	ok(judge_text("{\"final_execution_status\":\"EXECUTED_OPTIMISTIC\",\"status\":{\"Failure\":"
		      "{\"ActionError\":{\"index\":0,\"kind\":{\"FunctionCallError\":{\"MethodResolveError\":"
		      "\"MethodNotFound\"}}}}}}", TXL_EXECUTED_OPTIMISTIC, &o) == 0 &&
	   o.kind == TXO_FAILED && !strcmp(o.error, "{\"ActionError\":{\"index\":0,\"kind\":{"
					   "\"FunctionCallError\":{\"MethodResolveError\":\"MethodNotFound\"}}}}"),
	   "a top-level Failure, as JSON text");
	txoutcome_free(&o);

	ok(judge_text("{\"final_execution_status\":\"FINAL\",\"status\":{\"Failure\":{\"InvalidTxError\":"
		      "{\"InvalidNonce\":{\"ak_nonce\":5,\"tx_nonce\":5}}}}}", TXL_FINAL, &o) == 0 &&
	   o.kind == TXO_INVALID, "an InvalidTxError failure: it never executed");
	txoutcome_free(&o);

	ok(judge_text("{\"final_execution_status\":\"INCLUDED\",\"status\":\"Started\"}", TXL_EXECUTED, &o) == 0 &&
	   o.kind == TXO_PENDING, "INCLUDED when EXECUTED is wanted: pending");
	ok(judge_text("{\"final_execution_status\":\"EXECUTED_OPTIMISTIC\",\"status\":{\"SuccessValue\":\"\"}}",
		      TXL_EXECUTED, &o) == 0 && o.kind == TXO_PENDING,
	   "EXECUTED_OPTIMISTIC when EXECUTED is wanted: pending (not final)");
	ok(judge_text("{\"final_execution_status\":\"NONE\"}", TXL_INCLUDED, &o) == 0 && o.kind == TXO_PENDING,
	   "NONE: pending");
	ok(judge_text("{\"status\":\"NotStarted\"}", TXL_EXECUTED, &o) == 0 && o.kind == TXO_PENDING,
	   "NotStarted (no level given): pending");
	ok(judge_text("{\"final_execution_status\":\"FINAL\",\"status\":{\"SuccessValue\":\"***\"}}",
		      TXL_FINAL, &o) < 0 && strstr(o.error, "base64"), "a SuccessValue that is not base64: %s", o.error);
	txoutcome_free(&o);
	ok(judge_text("{\"final_execution_status\":\"FINAL\",\"status\":42}", TXL_FINAL, &o) < 0,
	   "a status of the wrong type is not an outcome");
	txoutcome_free(&o);
	ok(judge_text("[1]", TXL_FINAL, &o) < 0, "an array is not an outcome");
	txoutcome_free(&o);

	ok(tx_level_meets(TXL_FINAL, TXL_EXECUTED) && tx_level_meets(TXL_EXECUTED, TXL_INCLUDED_FINAL) &&
	   !tx_level_meets(TXL_EXECUTED_OPTIMISTIC, TXL_INCLUDED_FINAL) &&
	   !tx_level_meets(TXL_INCLUDED_FINAL, TXL_EXECUTED_OPTIMISTIC) &&
	   tx_level_meets(TXL_INCLUDED, TXL_INCLUDED) && !tx_level_meets(TXL_NONE, TXL_INCLUDED),
	   "levels meet as nearcore orders them");
	is_int(tx_level_parse("EXECUTED_OPTIMISTIC"), TXL_EXECUTED_OPTIMISTIC, "level names parse");
	is_int(tx_level_parse("executed"), -1, "case matters");
	return done_testing();
}

// Acceptance 6: a standard NEAR client library (near-api-js) against nearsim: a view call,
// a signed function-call transaction, and its status. Prints TAP. Args: RPC_URL KEYFILE_JSON
import { readFileSync } from "node:fs";
import { Account, JsonRpcProvider, teraToGas } from "near-api-js";

const [url, keyFile] = process.argv.slice(2);
const key = JSON.parse(readFileSync(keyFile, "utf8"));
let n = 0, failed = 0;
function ok(cond, desc, extra) {
  n++;
  console.log(`${cond ? "" : "not "}ok ${n} - ${desc}`);
  if (!cond) {
    failed++;
    if (extra !== undefined) console.log("#   " + JSON.stringify(extra).slice(0, 500));
  }
}

try {
  const provider = new JsonRpcProvider({ url });
  const contractId = "mpc.test.near";

  const version = await provider.callFunction({ contractId, method: "version", args: {} });
  ok(version === "3.14.0", "view call: version() = 3.14.0", version);
  const state = await provider.callFunction({ contractId, method: "state", args: {} });
  ok(state && state.Running && state.Running.keyset, "view call: state() is Running", state);

  const account = new Account(key.account_id, provider, key.private_key);
  const res = await account.callFunctionRaw({
    contractId, methodName: "verify_tee", args: {}, gas: teraToGas("300"), waitUntil: "EXECUTED_OPTIMISTIC",
  });
  const hash = res.transaction.hash;
  ok(typeof hash === "string" && hash.length >= 43, "signed function call sent, tx hash " + hash, res);
  ok(res.status && res.status.SuccessValue === "dHJ1ZQ==", "its outcome: SuccessValue(true)", res.status);

  const st = await provider.viewTransactionStatus({ txHash: hash, accountId: key.account_id, waitUntil: "FINAL" });
  ok(st.final_execution_status === "FINAL", "tx status: final_execution_status FINAL", st.final_execution_status);
  ok(st.transaction_outcome && st.transaction_outcome.id === hash, "tx status names the same transaction", st.transaction_outcome);
} catch (e) {
  ok(false, "near-api-js raised: " + (e && e.message), String(e && e.stack));
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);

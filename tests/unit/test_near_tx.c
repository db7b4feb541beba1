/* Transactions: vectors.md V1-V7 byte for byte, sign/decode round trips, hostile input. */
#include "../tap.h"
#include "test_near_util.h"
#include "near/near.h"

/* V1: nearcore test_serialize_transaction, all eight action kinds, zero block hash. */
static const char v1_tx[] =
	"09000000746573742e6e656172000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2"
	"491f6ef8010000000000000003000000313233000000000000000000000000000000000000000000000000"
	"000000000000000008000000000103000000010203020300000071717103000000010203e8030000000000"
	"0040420f00000000000000000000000000037b0000000000000000000000000000000440420f0000000000"
	"0000000000000000000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2491f6ef80500"
	"0f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2491f6ef80000000000000000000003"
	"0000007a7a7a010000000300000077777706000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e17"
	"62803cc2491f6ef80703000000313233";
static const char v1_b64[] =
	"CQAAAHRlc3QubmVhcgAPVqXwKN/Aiex8OcEYOzIbTY+JulvsnhdigDzCSR9u+AEAAAAAAAAAAwAAADEyMwAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAAAAAABAwAAAAECAwIDAAAAcXFxAwAAAAECA+gDAAAA"
	"AAAAQEIPAAAAAAAAAAAAAAAAAAN7AAAAAAAAAAAAAAAAAAAABEBCDwAAAAAAAAAAAAAAAAAAD1al8CjfwIns"
	"fDnBGDsyG02Pibpb7J4XYoA8wkkfbvgFAA9WpfAo38CJ7Hw5wRg7MhtNj4m6W+yeF2KAPMJJH274AAAAAAAA"
	"AAAAAAMAAAB6enoBAAAAAwAAAHd3dwYAD1al8CjfwInsfDnBGDsyG02Pibpb7J4XYoA8wkkfbvgHAwAAADEy"
	"MwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAA";
/* V2: the same actions with a real block hash (near-api-js). */
static const char v2_tx[] =
	"09000000746573742e6e656172000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2"
	"491f6ef80100000000000000030000003132330fa473fd26901df296be6adc4cc4df34d040efa2435224b6"
	"986910e630c2fef608000000000103000000010203020300000071717103000000010203e8030000000000"
	"0040420f00000000000000000000000000037b0000000000000000000000000000000440420f0000000000"
	"0000000000000000000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2491f6ef80500"
	"0f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2491f6ef80000000000000000000003"
	"0000007a7a7a010000000300000077777706000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e17"
	"62803cc2491f6ef80703000000313233";
/* V3: near-api-js transfer, with its published signature. */
static const char v3_tx[] =
	"09000000746573742e6e65617200917b3d268d4b58f7fec1b150bd68d69be3ee5d4cc39855e341538465bb"
	"77860d01000000000000000d00000077686174657665722e6e6561720fa473fd26901df296be6adc4cc4df"
	"34d040efa2435224b6986910e630c2fef6010000000301000000000000000000000000000000";
static const char v3_sig[] =
	"969a83332186ee9755e4839325525806e189a3d2d2bb4b4760e94443e97e1c4f22deeef0059a8e9713100e"
	"da6e19144da7e8a0ef7e539b20708ba1d8d021bd01";
static const char v3_b64[] =
	"CQAAAHRlc3QubmVhcgCRez0mjUtY9/7BsVC9aNab4+5dTMOYVeNBU4Rlu3eGDQEAAAAAAAAADQAAAHdoYXRl"
	"dmVyLm5lYXIPpHP9JpAd8pa+atxMxN800EDvokNSJLaYaRDmMML+9gEAAAADAQAAAAAAAAAAAAAAAAAAAACW"
	"moMzIYbul1Xkg5MlUlgG4Ymj0tK7S0dg6URD6X4cTyLe7vAFmo6XExAO2m4ZFE2n6KDvflObIHCLodjQIb0B";
/* V4: the NEAR docs' broadcast_tx_commit and send_tx examples. */
static const char v4a_b64[] =
	"DgAAAHNlbmRlci50ZXN0bmV0AOrmAai64SZOv9e/naX4W15pJx0GAap35wTT1T/DwcbbDQAAAAAAAAAQAAAAcmVj"
	"ZWl2ZXIudGVzdG5ldIODI4YfV/QS++blXpQYT+bOsRblTRW4f547y/LkvMQ9AQAAAAMAAACh7czOG8LTAAAAAAAA"
	"AAXcaTJzu9GviPT7AD4mNJGY79jxTrjFLoyPBiLGHgBi8JK1AnhK8QknJ1ourxlvOYJA2xEZE8UR24THmSJcLQw=";
static const char v4b_b64[] =
	"DgAAAHNlbmRlci50ZXN0bmV0AOrmAai64SZOv9e/naX4W15pJx0GAap35wTT1T/DwcbbDwAAAAAAAAAQAAAAcmVj"
	"ZWl2ZXIudGVzdG5ldNMnL7URB1cxPOu3G8jTqlEwlcasagIbKlAJlF5ywVFLAQAAAAMAAACh7czOG8LTAAAAAAAA"
	"AGQcOG03xVSFQFjoagOb4NBBqWhERnnz45LY4+52JgZhm1iQKz7qAdPByrGFDQhQ2Mfga8RlbysuQ8D8LlA6bQE=";
/* V5: the FunctionCall transaction generated for this project. */
static const char v5_tx[] =
	"0e0000007369676e65722e746573746e6574000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e17"
	"62803cc2491f6ef879df0d864870000010000000636f6e74726163742e746573746e65740fa473fd26901d"
	"f296be6adc4cc4df34d040efa2435224b6986910e630c2fef60100000002040000007369676e3c0000007b"
	"2272657175657374223a7b227061796c6f6164223a2268656c6c6f222c2270617468223a226d2f30222c22"
	"6b65795f76657273696f6e223a307d7d00e057eb481b000001000000000000000000000000000000";
static const char v5_b64[] =
	"DgAAAHNpZ25lci50ZXN0bmV0AA9WpfAo38CJ7Hw5wRg7MhtNj4m6W+yeF2KAPMJJH274ed8NhkhwAAAQAAAAY29u"
	"dHJhY3QudGVzdG5ldA+kc/0mkB3ylr5q3EzE3zTQQO+iQ1IktphpEOYwwv72AQAAAAIEAAAAc2lnbjwAAAB7InJl"
	"cXVlc3QiOnsicGF5bG9hZCI6ImhlbGxvIiwicGF0aCI6Im0vMCIsImtleV92ZXJzaW9uIjowfX0A4FfrSBsAAAEA"
	"AAAAAAAAAAAAAAAAAAAAtu6JHXsCOge5occSDBlfbQpSddtbae0aAzylfb4XYwtSQa+8wJIJGTrvspCUG20XO6zE"
	"7cHkviIlxoQR9FXxCQ==";
static const char v5_args[] = "{\"request\":{\"payload\":\"hello\",\"path\":\"m/0\",\"key_version\":0}}";
/* V7: near-api-js transaction1.json, empty signer_id. */
static const char v7_tx[] =
	"0000000000795cb7b5f57222e742d1759092f0e20071a0cd2bf30e1f681d800e67935e1688010000000000"
	"00001000000073747564696f2d76776375396534316d4def837b838543990f3380af8e2a3817ddf70fe996"
	"0135b2add25a679b2a01ed01000000020a0000006164644d6573736167650b0000007b2274657874223a22"
	"227d80841e000000000000000000000000000000000000000000";

static const char alice_secret[] =
	"ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw";

/* Unsigned tx hex + 0x00 + signature (64 zero bytes when sig_hex is NULL). */
static uint8_t *signed_from_hex(const char *tx_hex, const char *sig_hex, size_t *n, size_t *tx_len)
{
	uint8_t *tx = hex_alloc(tx_hex, tx_len), *out = malloc(*tx_len + 65);

	memcpy(out, tx, *tx_len);
	out[*tx_len] = 0;
	if (sig_hex)
		hex_fixed(out + *tx_len + 1, 64, sig_hex);
	else
		memset(out + *tx_len + 1, 0, 64);
	*n = *tx_len + 65;
	free(tx);
	return out;
}

static int decode_b64(struct near_tx_view *v, const char *b64, char *err, size_t errsz)
{
	size_t n;
	uint8_t *bin = b64_decode_alloc(b64, strlen(b64), &n);
	int rc = bin ? near_tx_decode(v, bin, n, err, errsz) : -1;

	free(bin);
	return rc;
}

static void b58_of(char *out, size_t outsz, const uint8_t *p, size_t n)
{
	b58_encode(out, outsz, p, n);
}

static void test_v1_v2(void)
{
	struct near_tx_view v;
	uint8_t *bin;
	size_t n, tx_len, i;
	char err[200], *b64, s[NEAR_PUBKEY_STR_MAX];
	static const uint8_t tags[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	int tags_ok = 1;

	bin = signed_from_hex(v1_tx, NULL, &n, &tx_len);
	is_int(tx_len, 316, "V1 transaction is 316 bytes");
	b64 = b64_encode_alloc(bin, n);
	is_str(b64, v1_b64, "V1 signed base64 (empty signature) byte for byte");
	free(b64);
	is_int(near_tx_decode(&v, bin, n, err, sizeof(err)), 0, "V1 decodes: %s", err);
	is_str(v.hash_b58, "4GXvjMFN6wSxnU9jEVT8HbXP5Yk6yELX9faRSKp6n9fX", "V1 hash (nearcore)");
	is_str(v.signer_id, "test.near", "V1 signer_id");
	is_str(v.receiver_id, "123", "V1 receiver_id");
	ok(v.nonce == 1 && v.tx_len == 316, "V1 nonce and tx length");
	near_pubkey_format(s, &v.public_key);
	is_str(s, "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV", "V1 public key");
	is_int(v.n_actions, 8, "V1 has 8 actions");
	for (i = 0; i < 8 && i < v.n_actions; i++)
		tags_ok &= v.actions[i].tag == tags[i];
	ok(tags_ok, "V1 action tags 0..7 in order");
	if (v.n_actions == 8) {
		struct near_action_view *fc = &v.actions[2];

		is_str(fc->method, "qqq", "V1 FunctionCall method");
		ok(fc->args_len == 3 && memcmp(fc->args, "\x01\x02\x03", 3) == 0 &&
		   fc->gas == 1000 && fc->deposit == 1000000, "V1 FunctionCall args, gas, deposit");
		ok(v.actions[3].deposit == 123, "V1 Transfer deposit 123");
		ok(v.actions[4].deposit == 1000000, "V1 Stake amount");
		ok(v.actions[1].payload_len == 7 && memcmp(v.actions[1].payload + 4, "\x01\x02\x03", 3) == 0,
		   "V1 DeployContract payload recorded");
		ok(v.actions[0].payload_len == 0, "V1 CreateAccount has no payload");
		ok(v.actions[7].payload_len == 7 && memcmp(v.actions[7].payload + 4, "123", 3) == 0,
		   "V1 DeleteAccount beneficiary payload");
		ok(v.actions[5].payload_len == 33 + 8 + 1 + 1 + 7 + 4 + 7,
		   "V1 AddKey payload length (key, nonce, FunctionCall permission)");
	}
	is_int(near_tx_view_verify(&v), -1, "V1 empty signature does not verify");
	near_tx_view_free(&v);
	free(bin);

	bin = signed_from_hex(v2_tx, NULL, &n, &tx_len);
	is_int(near_tx_decode(&v, bin, n, err, sizeof(err)), 0, "V2 decodes: %s", err);
	is_str(v.hash_b58, "Fo3MJ9XzKjnKuDuQKhDAC6fra5H2UWawRejFSEpPNk3Y", "V2 hash (near-api-js)");
	b58_of(s, sizeof(s), v.block_hash, 32);
	is_str(s, "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM", "V2 block hash");
	near_tx_view_free(&v);
	free(bin);
}

static void test_v3_v4(void)
{
	struct near_tx_view v;
	uint8_t *bin;
	size_t n, tx_len;
	char err[200], *b64, s[NEAR_SIGNATURE_STR_MAX];

	bin = signed_from_hex(v3_tx, v3_sig, &n, &tx_len);
	b64 = b64_encode_alloc(bin, n);
	is_str(b64, v3_b64, "V3 signed base64 byte for byte");
	free(b64);
	is_int(near_tx_decode(&v, bin, n, err, sizeof(err)), 0, "V3 decodes: %s", err);
	is_str(v.hash_b58, "H4be6ioGzDeiGKork27na6Usw2Hzt4gNJfetJ7ag3LhP", "V3 hash");
	is_str(v.receiver_id, "whatever.near", "V3 receiver");
	ok(v.n_actions == 1 && v.actions[0].tag == NEAR_ACTION_TRANSFER && v.actions[0].deposit == 1,
	   "V3 Transfer of 1 yocto");
	is_int(near_tx_view_verify(&v), 0, "V3 published signature verifies over sha256(tx)");
	near_tx_view_free(&v);
	free(bin);

	is_int(decode_b64(&v, v4a_b64, err, sizeof(err)), 0, "V4 broadcast_tx_commit decodes: %s", err);
	is_int(v.raw_len, 197, "V4 is 197 bytes");
	is_int(v.tx_len, 132, "V4 tx is 132 bytes");
	is_str(v.hash_b58, "ASS7oYwGiem9HaNwJe6vS2kznx2CxueKDvU9BAYJRjNR", "V4 hash = docs' transaction.hash");
	near_signature_format(s, v.signature);
	is_str(s, "ed25519:7oCBMfSHrZkT7tzPDBxxCd3tWFhTES38eks3MCZMpYPJRfPWKxJsvmwQiVBBxRLoxPTnXVaMU2jPV3MdFKZTobH",
	       "V4 signature = docs' transaction.signature");
	near_pubkey_format(s, &v.public_key);
	is_str(s, "ed25519:Gowpa4kXNyTMRKgt5W7147pmcc2PxiFic8UHW9rsNvJ6", "V4 public key");
	ok(v.nonce == 13 && strcmp(v.signer_id, "sender.testnet") == 0 &&
	   strcmp(v.receiver_id, "receiver.testnet") == 0, "V4 signer, receiver, nonce 13");
	ok(v.n_actions == 1 && v.actions[0].tag == NEAR_ACTION_TRANSFER &&
	   v.actions[0].deposit == NEAR_ONE_NEAR, "V4 Transfer of 1 NEAR");
	b58_of(s, sizeof(s), v.block_hash, 32);
	is_str(s, "9rNPWtcKGhuQQNbPCp16MZmhUqwQBTQtNyUm4X6E4bJt", "V4 block hash");
	is_int(near_tx_view_verify(&v), 0, "V4 signature verifies");
	near_tx_view_free(&v);

	is_int(decode_b64(&v, v4b_b64, err, sizeof(err)), 0, "V4 send_tx decodes: %s", err);
	is_str(v.hash_b58, "6zgh2u9DqHHiXzdy9ouTP7oGky2T4nugqzqt9wJZwNFm", "V4 send_tx hash");
	b58_of(s, sizeof(s), v.block_hash, 32);
	is_str(s, "FDFgVM4mjcrnf2zanGDKu57hBYJXa5iqcgcBriipAd7g", "V4 send_tx block hash");
	ok(v.nonce == 15 && near_tx_view_verify(&v) == 0, "V4 send_tx nonce 15, signature verifies");
	near_tx_view_free(&v);
}

static void v5_inputs(struct near_pubkey *pk, uint8_t bh[32], struct near_fc_action *act)
{
	near_pubkey_parse(pk, "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV");
	near_hash_from_b58(bh, "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM");
	memset(act, 0, sizeof(*act));
	act->method = "sign";
	act->args = (const uint8_t *)v5_args;
	act->args_len = strlen(v5_args);
	act->gas = 30 * NEAR_TGAS;
	act->deposit = 1;
}

static void test_v5(void)
{
	struct borsh_buf b = BORSH_BUF_INIT;
	struct near_pubkey pk, other;
	struct near_secret sk;
	struct near_fc_action act;
	struct near_signed_tx st;
	struct near_tx_view v;
	uint8_t bh[32], *want;
	size_t want_n;
	char err[200], s[NEAR_SIGNATURE_STR_MAX];

	v5_inputs(&pk, bh, &act);
	is_int(act.args_len, 60, "V5 args are 60 bytes");
	want = hex_alloc(v5_tx, &want_n);
	is_int(near_tx_encode(&b, "signer.testnet", &pk, 123456789012345ULL, "contract.testnet",
			      bh, &act, 1), 0, "V5 encodes");
	ok(b.len == 212 && want_n == 212 && memcmp(b.data, want, 212) == 0,
	   "V5 Borsh bytes byte for byte (212)");
	borsh_buf_free(&b);
	is_int(near_tx_check("signer.testnet", "contract.testnet", &act, 1, err, sizeof(err)), 0,
	       "V5 passes the protocol checks");

	ok(near_secret_parse(&sk, alice_secret) == 0, "V5 secret parses");
	is_int(near_tx_sign(&st, "signer.testnet", &pk, 123456789012345ULL, "contract.testnet",
			    bh, &act, 1, &sk), 0, "V5 signs");
	ok(st.tx_len == 212 && st.len == 277 && memcmp(st.bytes, want, 212) == 0 &&
	   st.bytes[212] == 0, "V5 signed bytes = tx || 0x00 || sig");
	is_str(st.hash_b58, "FPdJmK3VAE5xrKapsgvypQbYswURvy9E8XYue8KaPHVg", "V5 tx hash");
	near_signature_format(s, st.signature);
	is_str(s, "ed25519:4f8U7C7eFztzmeyLsM3A9hGug8e67XvQ7rAZpq2shFhR4SU2JfSqBFyC48snj3ZVZi9ATgAwMZ4tQPHjxSbwPtqn",
	       "V5 signature");
	is_str(st.base64, v5_b64, "V5 signed_tx_base64 byte for byte");

	/* decode(sign(x)) gives x back. */
	is_int(near_tx_decode(&v, st.bytes, st.len, err, sizeof(err)), 0, "V5 decodes: %s", err);
	ok(strcmp(v.signer_id, "signer.testnet") == 0 && strcmp(v.receiver_id, "contract.testnet") == 0 &&
	   v.nonce == 123456789012345ULL && near_pubkey_equal(&v.public_key, &pk) &&
	   memcmp(v.block_hash, bh, 32) == 0, "V5 round trip: header fields");
	ok(v.n_actions == 1 && v.actions[0].tag == NEAR_ACTION_FUNCTION_CALL &&
	   strcmp(v.actions[0].method, "sign") == 0 && v.actions[0].args_len == 60 &&
	   memcmp(v.actions[0].args, v5_args, 60) == 0 && v.actions[0].gas == 30 * NEAR_TGAS &&
	   v.actions[0].deposit == 1, "V5 round trip: FunctionCall fields");
	ok(memcmp(v.hash, st.hash, 32) == 0 && memcmp(v.signature, st.signature, 64) == 0,
	   "V5 round trip: hash and signature");
	is_int(near_tx_view_verify(&v), 0, "V5 signature verifies");
	near_tx_view_free(&v);
	near_signed_tx_free(&st);

	/* Signing with a key that is not the tx's public key is refused. */
	near_pubkey_parse(&other, "ed25519:9BmAFNRTa5mRRXpSAm6MxSEeqRASDGNh2FuuwZ4gyxTw");
	is_int(near_tx_sign(&st, "signer.testnet", &other, 1, "contract.testnet", bh, &act, 1, &sk), -1,
	       "sign refuses a public key that is not the secret's");
	ok(st.bytes == NULL && st.base64 == NULL, "refused sign leaves nothing to free");
	near_signed_tx_free(&st);

	/* Two actions, a zero deposit and empty args round-trip too. */
	{
		struct near_fc_action two[2];

		two[0] = act;
		two[1] = act;
		two[1].method = "respond";
		two[1].args = NULL;
		two[1].args_len = 0;
		two[1].deposit = 0;
		two[1].gas = NEAR_MAX_GAS - act.gas;
		ok(near_tx_sign(&st, "signer.testnet", &pk, 7, "v1.signer", bh, two, 2, &sk) == 0 &&
		   near_tx_decode(&v, st.bytes, st.len, err, sizeof(err)) == 0 &&
		   v.n_actions == 2 && strcmp(v.actions[1].method, "respond") == 0 &&
		   v.actions[1].args_len == 0 && v.actions[1].gas == NEAR_MAX_GAS - act.gas &&
		   v.actions[1].deposit == 0 && near_tx_view_verify(&v) == 0 &&
		   strcmp(v.hash_b58, st.hash_b58) == 0, "two-action tx round-trips and verifies");
		is_int(near_tx_check("signer.testnet", "v1.signer", two, 2, err, sizeof(err)), 0,
		       "exactly 1 PGas in total is allowed");
		near_tx_view_free(&v);
		near_signed_tx_free(&st);
	}
	near_secret_wipe(&sk);
	free(want);
}

static void test_v7(void)
{
	struct borsh_buf b = BORSH_BUF_INIT;
	struct near_tx_view v;
	struct near_fc_action act;
	uint8_t *bin;
	size_t n, tx_len;
	char err[200], s[NEAR_PUBKEY_STR_MAX];

	bin = signed_from_hex(v7_tx, NULL, &n, &tx_len);
	is_int(near_tx_decode(&v, bin, n, err, sizeof(err)), 0, "V7 decodes: %s", err);
	is_str(v.signer_id, "", "V7 signer_id is empty");
	is_str(v.receiver_id, "studio-vwcu9e41m", "V7 receiver_id");
	near_pubkey_format(s, &v.public_key);
	is_str(s, "ed25519:9AkLDhntwj9cGSwFPr1XtMFwP1aUFCVLNQXaKQZ3kN9m", "V7 public key");
	b58_of(s, sizeof(s), v.block_hash, 32);
	is_str(s, "6FEDkKHW44kiRP7JtDeARhQhz6343rGKeRa2fq47d8qr", "V7 block hash");
	ok(v.nonce == 1 && v.n_actions == 1 && strcmp(v.actions[0].method, "addMessage") == 0 &&
	   v.actions[0].args_len == 11 && memcmp(v.actions[0].args, "{\"text\":\"\"}", 11) == 0 &&
	   v.actions[0].gas == 2000000 && v.actions[0].deposit == 0, "V7 FunctionCall addMessage");
	is_str(v.hash_b58, "7zv5vXAajgX7XvJorxmeMLE48EuJQdGjTHXSyFmhU2r7", "V7 hash");
	ok(!near_account_id_valid(v.signer_id, strlen(v.signer_id)), "V7 signer is not a valid account id");

	/* The encoder reproduces it from the decoded fields. */
	act.method = v.actions[0].method;
	act.args = v.actions[0].args;
	act.args_len = v.actions[0].args_len;
	act.gas = v.actions[0].gas;
	act.deposit = v.actions[0].deposit;
	ok(near_tx_encode(&b, v.signer_id, &v.public_key, v.nonce, v.receiver_id, v.block_hash,
			  &act, 1) == 0 && b.len == tx_len && memcmp(b.data, bin, tx_len) == 0,
	   "V7 re-encodes byte for byte");
	is_int(near_tx_check(v.signer_id, v.receiver_id, &act, 1, err, sizeof(err)), -1,
	       "V7 fails the protocol checks (empty signer)");
	diag("check: %s", err);
	borsh_buf_free(&b);
	near_tx_view_free(&v);
	free(bin);
}

/* Decoding must fail, with a message containing want. */
static void rejects(const uint8_t *p, size_t n, const char *want, const char *what)
{
	struct near_tx_view v;
	char err[256] = "";
	int rc = near_tx_decode(&v, p, n, err, sizeof(err));

	if (rc == 0)
		near_tx_view_free(&v);
	ok(rc == -1 && strstr(err, want) && v.raw == NULL && v.actions == NULL,
	   "reject %s (\"%s\")", what, err);
}

static void test_rejects(void)
{
	uint8_t *bin, *buf;
	size_t n, tx_len, cut, failures = 0, messages = 0;
	struct near_tx_view v;
	char err[256];

	/* Every truncation of V1 (all action kinds) and V5 is an error, never a crash. */
	bin = signed_from_hex(v1_tx, NULL, &n, &tx_len);
	for (cut = 0; cut < n; cut++) {
		buf = malloc(cut ? cut : 1);
		memcpy(buf, bin, cut);
		err[0] = '\0';
		if (near_tx_decode(&v, buf, cut, err, sizeof(err)) == -1)
			failures++;
		else
			near_tx_view_free(&v);
		if (err[0])
			messages++;
		free(buf);
	}
	is_int(failures, n, "all %zu truncations of V1 rejected", n);
	is_int(messages, n, "every truncation explains itself");
	rejects(bin, n - 1, "truncated: signature", "V1 missing the last signature byte");
	rejects(bin, 200, "truncated: actions[", "V1 cut inside the actions");
	rejects(bin, 3, "truncated: signer_id", "V1 cut inside signer_id's length");

	/* Trailing garbage. */
	buf = malloc(n + 1);
	memcpy(buf, bin, n);
	buf[n] = 'x';
	rejects(buf, n + 1, "1 trailing byte(s)", "one byte after the signature");

	/* Mutations of single fields. */
	buf[316] = 1;
	rejects(buf, n, "signature at byte 316: type 1", "secp256k1 signature");
	buf[316] = 0;
	buf[13] = 1;
	rejects(buf, n, "public_key at byte 13: key type 1", "secp256k1 signer key");
	buf[13] = 0;
	buf[97] = 8;	/* the action count is at byte 93, the first tag at 97 */
	rejects(buf, n, "actions[0] at byte 97: action tag 8 (Delegate) is not supported",
		"Delegate action");
	buf[97] = 0;
	buf[93] = 0xff;
	buf[94] = 0xff;
	rejects(buf, n, "actions at byte 93 claims 65535 actions", "forged action count");
	free(buf);
	free(bin);

	/* Transaction V1 (leading tag 0x01 then a u32 length). */
	bin = signed_from_hex(v5_tx, NULL, &n, &tx_len);
	buf = malloc(n + 1);
	buf[0] = 1;
	memcpy(buf + 1, bin, n);
	rejects(buf, n + 1, "Transaction V1", "Transaction V1");
	free(buf);

	/* Invalid UTF-8 in the method name (its length at byte 116, "sign" at 120). */
	bin[120] = 0xff;
	rejects(bin, n, "actions[0].method_name at byte 116 is not valid UTF-8", "bad UTF-8 method");
	bin[120] = 0;
	rejects(bin, n, "method_name at byte 116 contains a NUL byte", "NUL in method name");
	free(bin);

	rejects((const uint8_t *)"", 0, "empty", "empty input");
	rejects(NULL, 0, "empty", "NULL input");
	ok(near_tx_decode(&v, (const uint8_t *)"\x05", 1, NULL, 0) == -1,
	   "a NULL error buffer is allowed");
}

static void test_check(void)
{
	struct near_fc_action a[NEAR_MAX_ACTIONS + 1];
	char err[256], longname[NEAR_MAX_METHOD_NAME_LEN + 2];
	size_t i;

	for (i = 0; i < NEAR_MAX_ACTIONS + 1; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].method = "sign";
		a[i].gas = NEAR_TGAS;
	}
	ok(near_tx_check("a.near", "b.near", a, NEAR_MAX_ACTIONS, err, sizeof(err)) == 0,
	   "100 actions allowed");
	ok(near_tx_check("a.near", "b.near", a, NEAR_MAX_ACTIONS + 1, err, sizeof(err)) == -1,
	   "101 actions refused: %s", err);
	ok(near_tx_check("a.near", "b.near", a, 0, err, sizeof(err)) == -1, "0 actions refused: %s", err);
	ok(near_tx_check("A.near", "b.near", a, 1, err, sizeof(err)) == -1 && strstr(err, "signer_id"),
	   "bad signer refused: %s", err);
	ok(near_tx_check("a.near", "b..near", a, 1, err, sizeof(err)) == -1 && strstr(err, "receiver_id"),
	   "bad receiver refused: %s", err);
	a[0].gas = 0;
	ok(near_tx_check("a.near", "b.near", a, 1, err, sizeof(err)) == -1 && strstr(err, "gas is 0"),
	   "zero gas refused: %s", err);
	a[0].gas = NEAR_MAX_GAS;
	ok(near_tx_check("a.near", "b.near", a, 2, err, sizeof(err)) == -1 && strstr(err, "action 1"),
	   "total gas over 1 PGas refused: %s", err);
	a[0].gas = NEAR_TGAS;
	memset(longname, 'm', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	a[0].method = longname;
	ok(near_tx_check("a.near", "b.near", a, 1, err, sizeof(err)) == -1, "257-byte method refused: %s", err);
	longname[NEAR_MAX_METHOD_NAME_LEN] = '\0';
	ok(near_tx_check("a.near", "b.near", a, 1, err, sizeof(err)) == 0, "256-byte method allowed");
	a[0].method = "";
	ok(near_tx_check("a.near", "b.near", a, 1, err, sizeof(err)) == -1, "empty method refused: %s", err);
	a[0].method = "sign";
	a[0].args_len = NEAR_MAX_ARGS_LEN + 1;
	a[0].args = (const uint8_t *)"";
	ok(near_tx_check("a.near", "b.near", a, 1, err, sizeof(err)) == -1, "args over 4 MiB refused: %s", err);
}

int main(void)
{
	test_v1_v2();
	test_v3_v4();
	test_v5();
	test_v7();
	test_rejects();
	test_check();
	return done_testing();
}

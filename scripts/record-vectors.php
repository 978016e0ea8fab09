<?php
/**
 * Records signature test vectors from the gateway's documented PHP signing
 * function (seeds 002/003, "calculateSignature"), so the Rust implementation
 * can be checked byte for byte against real PHP behaviour.
 *
 * Re-record with scripts/record-vectors.sh (needs php-cli). Writes JSON to stdout.
 *
 * The one deliberate deviation from the published code: nested levels in the
 * published function `return $StringForSignature;` (capital S, an undefined
 * variable -> null -> TypeError for the `string` return type), which breaks
 * every nested payload. Here the nested level returns $stringForSignature.
 * Everything else (depth check at the start of every call, is_array checked
 * before the 'signature' key test, PHP string conversion of scalars) is kept.
 */

declare(strict_types=0);

// PHP renders floats through the `precision` ini setting (default 14). Refuse
// to record anything else, so the vectors do not depend on a local php.ini.
if (ini_get('precision') !== '14') {
    fwrite(STDERR, "record-vectors: php precision must be 14 (got " . ini_get('precision') . "); run with -d precision=14\n");
    exit(2);
}

/**
 * The documented function, typo fixed. Same parameters, same order of checks.
 */
function calculateSignature(array $data, string $secretKey, string $currentParamPrefix = '', int $depth = 16, int $currentRecursionLevel = 0): string
{
    if ($currentRecursionLevel >= $depth) {
        throw new Exception('Recursion level exceeded');
    }

    $stringForSignature = '';
    foreach ($data as $key => $value) {
        if (is_array($value)) {
            $stringForSignature .= calculateSignature($value, $secretKey, "$currentParamPrefix$key.", $depth, $currentRecursionLevel + 1);
        } elseif ($key !== 'signature') {
            $stringForSignature .= "$currentParamPrefix$key" . $value;
        }
    }

    if ($currentRecursionLevel == 0) {
        return strtolower(hash_hmac('sha512', $stringForSignature, $secretKey));
    }
    return $stringForSignature; // published code: $StringForSignature (bug)
}

/**
 * Twin of calculateSignature that returns the string-for-signature at every
 * level (including the top one) instead of the HMAC.
 */
function canonicalString(array $data, string $currentParamPrefix = '', int $depth = 16, int $currentRecursionLevel = 0): string
{
    if ($currentRecursionLevel >= $depth) {
        throw new Exception('Recursion level exceeded');
    }
    $out = '';
    foreach ($data as $key => $value) {
        if (is_array($value)) {
            $out .= canonicalString($value, "$currentParamPrefix$key.", $depth, $currentRecursionLevel + 1);
        } elseif ($key !== 'signature') {
            $out .= "$currentParamPrefix$key" . $value;
        }
    }
    return $out;
}

// ---------------------------------------------------------------------------
// Cases: [name, secret, raw JSON body, extra fields to copy into the record]
// ---------------------------------------------------------------------------

$seedSecret = 'cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5';
$k = 'test-secret';
$cases = [];
$add = function (string $name, string $secret, string $body, array $extra = []) use (&$cases) {
    $cases[] = [$name, $secret, $body, $extra];
};

// --- seed examples --------------------------------------------------------
$add('seed_002_example', $seedSecret, <<<'JSON'
{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","provider_id":10,"client_id":"254000000000","country":"KE","order_id":"order_3444298767545","amount":1000,"currency":"KES","callback_url":"https://my.callback.url"}
JSON);
$add('seed_003_example', $seedSecret, <<<'JSON'
{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","provider_id":10,"client_id":"080000000","country":"KE","order_id":"order_3444298767545","amount":1000,"currency":"CDF","callback_url":"https://my.callback.url"}
JSON);
$add('seed_002_example_with_signature_field', $seedSecret, <<<'JSON'
{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","provider_id":10,"client_id":"254000000000","country":"KE","order_id":"order_3444298767545","amount":1000,"currency":"KES","callback_url":"https://my.callback.url","signature":"0000"}
JSON);
$add('seed_002_c2b_request', $seedSecret, <<<'JSON'
{
  "merchant_id": "e0fecd91fcb24f348048193b3fb34875ba3722b4",
  "customer_id": "0900000001",
  "order_id": "16280954971628095497",
  "amount": "100.00",
  "currency": "KES",
  "country": "KE",
  "provider_id": 14,
  "signature": "d7d6d76b0e22c6f9d369fa6c24f107053d12bfd24d3b154f2deb6676bf179c123134e1f20879c803be455d81cfe792f00cd8892c26ce7cf5a05beebb9c80843e"
}
JSON);
$add('seed_002_c2b_callback', $seedSecret, <<<'JSON'
{
  "merchant_id": "e0fecd91fcb24f348048193b3fb34875ba3722b4",
  "operation_type": 17,
  "customer_id": "0900000001",
  "amount": 100,
  "order_id": "16280954971628095497",
  "transaction_id": "1234567",
  "transaction_ref": "QR555RQ",
  "status": 2,
  "provider_id": 14,
  "destination_id": "",
  "result": {
    "code": 0,
    "message": "OK"
  },
  "signature": "d7d6d76b0e22c6f9d369fa6c24f107053d12bfd24d3b154f2deb6676bf179c123134e1f20879c803be455d81cfe792f00cd8892c26ce7cf5a05beebb9c80843e"
}
JSON);
$add('seed_002_b2c_request_with_extra', $seedSecret, <<<'JSON'
{
"merchant_id":"e0fecd91fcb24f348048193b3fb34875ba3722b4",
"order_id":"0900000001",
"customer_id":"16280954971628095497",
"amount":"100.00",
"currency":"NGN",
"provider_id":5026,
"extra":{
"customer_name":"Name Lastname",
"customer_email": "Name@domen.com",
"bank_code":"000001"
},
"signature":"d7d6d76b0e22c6f9d369fa6c24f107053d12bfd24d3b154f2deb6676bf179c123134e1f20879c803be455d81cfe792f00cd8892c26ce7cf5a05beebb9c80843e"
}
JSON);
$add('seed_002_status_request_extra_otp', $seedSecret, <<<'JSON'
{
"merchant_id":"cdeffe6210c7fdc7402c13b215455bd8ddec02da0c",
"order_id":"55584tty848rt",
"customer_id":"2250768000000",
"extra":{
"otp":"7374"
},
"signature":"d7d6d76bd12bfd24dytu6u6c803be455d81cfe792f00cd8892c26ce7cf5a05beebb9c80843e"
}
JSON);
// The seed's own sample literally has a trailing comma after "extra": PHP rejects it.
$add('seed_002_c2b_extra_otp_sample_trailing_comma_invalid', $seedSecret, <<<'JSON'
{
"merchant_id": "your merchant id",
"customer_id": "2250705145655",
"order_id": "test_161225_01_1",
"amount": "1100",
"currency": "XOF",
"country": "BF",
"callback_url": "your callback url",
"provider_id": "9209",
"signature": "1c594d338bc3f413bd61cb97d697e98ad5772071da533",
"extra": {
"otp": "5647"
},
}
JSON);
$add('seed_002_c2b_extra_otp_sample_fixed', $seedSecret, <<<'JSON'
{
"merchant_id": "your merchant id",
"customer_id": "2250705145655",
"order_id": "test_161225_01_1",
"amount": "1100",
"currency": "XOF",
"country": "BF",
"callback_url": "your callback url",
"provider_id": "9209",
"signature": "1c594d338bc3f413bd61cb97d697e98ad5772071da533",
"extra": {
"otp": "5647"
}
}
JSON);
$add('seed_002_simulator_response_nested_result_provider_result', $seedSecret, <<<'JSON'
{
"order_id": "54321",
"transaction_id": "12345",
"transaction_ref": "",
"status": 1,
"result": {
"code": 0,
"message": "OK"
},
"provider_result": {
"code": -8888,
"message": "Good"
},
"service_id": 1,
"service_version": "1.03/1.14|1.0/1.26|1.0/1.0|1.01/1.01|1.01/1.01||1.01/1.27",
"service_date_time": "2023-05-15 10:00:00.000000",
"confirm_type": 0
}
JSON);
$add('seed_002_bank_transfer_response_with_extra', $seedSecret, <<<'JSON'
{
"order_id": "90900000001",
"transaction_id": "",
"transaction_ref": "",
"status": 1,
"result": {
"code": 0,
"message": "OK"
},
"provider_result": {
"code": -8888,
"message": ""
},
"service_id": 1,
"service_version": "1.03/1.14|1.0/2.0|1.0/1.0|1.01/1.0|1.01/2.0||1.02/1.27",
"service_date_time": "2024-04-20 01:08:42.797957",
"extra": {
"transfer_amount": 100,
"account_name": "Test Ltd / Test Limited",
"account_number": "4000000000",
"bank_name": "Premium Trust Bank"
},
"confirm_type": 0
}
JSON);
$add('seed_002_status_response_float_service_version', $seedSecret, <<<'JSON'
{"order_id":"16280954971628095497","transaction_id":"732007046722","transaction_ref":"MP.33234.342.CP33","status":2,"result":{"code":0,"message":"OK"},"provider_result":{"code":0,"message":"OK"},"service_id":1,"service_version":11.1,"service_date_time":"2020-11-25 10:08:32.832969"}
JSON);
$add('seed_003_c2b_request', $seedSecret, <<<'JSON'
{
  "merchant_id": "e0fecd91fcb24f348048193b3fb34875ba3722b4",
  "customer_id": "0900000001",
  "order_id": "16280954971628095497",
  "amount": "100.00",
  "currency": "CDF",
  "country": "CD",
  "callback_url": "https://example.com/callback",
  "provider_id": 10,
  "signature": "d7d6d76b0e22c6f9d369fa6c24f107053d12bfd24d3b154f2deb6676bf179c123134e1f20879c803be455d81cfe792f00cd8892c26ce7cf5a05beebb9c80843e"
}
JSON);
$add('seed_003_c2b_callback_nested_result_provider_result', $seedSecret, <<<'JSON'
{
  "merchant_id": "e0fecd91fcb24f348048193b3fb34875ba3722b4",
  "operation_type": 17,
  "customer_id": "0900000001",
  "amount": 100,
  "order_id": "16280954971628095497",
  "transaction_id": "1234567",
  "transaction_ref": "QR555RQ",
  "status": 2,
  "provider_id": 10,
  "destination_id": "",
  "result": {"code": 0, "message": "OK"},
  "provider_result": {"code": 0, "message": "OK"},
  "service_id": 1,
  "service_version": "1.03/1.0|1.0/1.26|1.0/1.0|1.01/1.0|1.01/1.0||1.01/1.27",
  "service_date_time": "2020-11-25 10:08:32.832969",
  "signature": "d7d6d76b0e22c6f9d369fa6c24f107053d12bfd24d3b154f2deb6676bf179c123134e1f20879c803be455d81cfe792f00cd8892c26ce7cf5a05beebb9c80843e"
}
JSON);
$add('seed_003_withdrawal_request_string_provider_id', $seedSecret, <<<'JSON'
{"merchant_id":"e0fecd91fcb24f348048193b3fb34875ba3722b4","customer_id":"0900000001","order_id":"16280954971628095497","amount":"100.00","currency":"CDF","country":"CD","provider_id":"1003","signature":"d7d6d76b0e22c6f9d369fa6c24f107053d12bfd24d3b154f2deb6676bf179c123134e1f20879c803be455d81cfe792f00cd8892c26ce7cf5a05beebb9c80843e"}
JSON);
$add('seed_003_b2c_response_empty_nested_objects', $seedSecret, <<<'JSON'
{"order_id":"16280954971628095497","transaction_id":"","transaction_ref":"","status":7,"result":{},"provider result":{},"service_id":1,"service_version":"1.03/1.14|1.0/1.26|1.0/1.0|1.01/1.0|1.01/1.0||1.01/1.27","service_date_time":"2020-11-25 10:08:32.832969","extra":{},"confirm_type":0}
JSON);

// --- nested shapes --------------------------------------------------------
$add('nested_object', $k, '{"a":"1","extra":{"otp":"7374","name":"X"},"z":"2"}');
$add('nested_object_two_levels', $k, '{"a":{"b":{"c":"deep"}},"d":"e"}');
$add('list_of_scalars', $k, '{"items":["x","y","z"]}');
$add('list_of_objects', $k, '{"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"total":3}');
$add('list_of_lists', $k, '{"m":[[1,2],[3,[4,5]]]}');
$add('empty_object_contributes_nothing', $k, '{"a":"1","e":{},"b":"2"}');
$add('empty_list_contributes_nothing', $k, '{"a":"1","e":[],"b":"2"}');
$add('only_empty_containers', $k, '{"e":{},"l":[],"n":{"x":[],"y":{}}}');
$add('empty_top_level_object', $k, '{}');
$add('empty_top_level_list', $k, '[]');
$add('top_level_list', $k, '["a","b",{"c":"d"}]');
$add('top_level_scalar_string_type_error', $k, '"just a string"');
$add('top_level_null_type_error', $k, 'null');
$add('top_level_number_type_error', $k, '42');
$add('nested_signature_scalar_skipped', $k, '{"a":"1","extra":{"signature":"zzz","otp":"1"}}');
$add('nested_object_named_signature_not_skipped', $k, '{"a":"1","signature":{"x":"1","y":"2"}}');
$add('nested_list_named_signature_not_skipped', $k, '{"a":"1","signature":["p","q"]}');
$add('nested_empty_object_named_signature', $k, '{"a":"1","signature":{}}');
$add('top_level_signature_skipped', $k, '{"signature":"abc","a":"1"}');
$add('top_level_signature_null_skipped', $k, '{"a":"1","signature":null}');
$add('top_level_signature_number_skipped', $k, '{"a":"1","signature":12345}');
$add('signature_inside_signature_object', $k, '{"signature":{"signature":"s","k":"v"}}');
$add('key_case_Signature_not_skipped', $k, '{"Signature":"abc","SIGNATURE":"def","a":"1"}');
$add('dotted_key_collides_with_nesting_flat', $k, '{"a.b":"1"}');
$add('dotted_key_collides_with_nesting_nested', $k, '{"a":{"b":"1"}}');
$add('boundary_collision_ab_c', $k, '{"ab":"c"}');
$add('boundary_collision_a_bc', $k, '{"a":"bc"}');

// --- scalar types -----------------------------------------------------------
$add('scalar_strings', $k, '{"s":"hello","sp":"with space","num_str":"007","amount":"100.00"}');
$add('int_zero', $k, '{"v":0}');
$add('int_negative', $k, '{"v":-42}');
$add('int_negative_zero', $k, '{"v":-0}');
$add('int_i64_max', $k, '{"v":9223372036854775807}');
$add('int_i64_max_plus_1_becomes_float', $k, '{"v":9223372036854775808}');
$add('int_i64_min', $k, '{"v":-9223372036854775808}');
$add('int_i64_min_minus_1_becomes_float', $k, '{"v":-9223372036854775809}');
$add('int_2_pow_64_becomes_float', $k, '{"v":18446744073709551616}');
$add('int_huge_30_digits', $k, '{"v":123456789012345678901234567890}');
$add('bool_true_renders_1', $k, '{"t":true,"x":"y"}');
$add('bool_false_renders_empty', $k, '{"f":false,"x":"y"}');
$add('null_renders_empty', $k, '{"n":null,"x":"y"}');
$add('all_scalar_types', $k, '{"s":"str","i":1,"f":1.5,"t":true,"fa":false,"n":null}');
$floats = [
    '100.10', '100.0', '1.0', '0.0', '-0.0', '1e3', '1E3', '1e+2', '1E-2', '1e25', '1.5e-7', '0.1',
    '0.00001', '0.0001', '123456789012345.678', '1e13', '1e14', '1e15', '99999999999999.9',
    '0.30000000000000004', '1.23456789012345678', '1234567890123.45', '0.1e-3', '5e-324', '2e-400', '1.7976931348623157e308',
    '1e400', '-1e400', '-1.5', '3.14159265358979', '12345678901234.5', '0.5e1', '-0e0',
];
foreach ($floats as $f) {
    $name = 'float_' . strtr($f, ['-' => 'neg', '.' => 'p', '+' => 'plus']);
    $add($name, $k, '{"amount":' . $f . '}');
}
$add('float_and_string_amount_differ', $k, '{"a":100.00,"b":"100.00"}');

// --- strings / escapes ------------------------------------------------------
$add('string_escapes', $k, <<<'JSON'
{"nl":"line1\nline2","q":"say \"hi\"","bs":"back\\slash","sl":"a\/b","e":"caf\u00e9","emoji":"\ud83d\ude00","tab":"a\tb","nul":"x\u0000y"}
JSON);
$add('string_raw_unicode', $k, '{"e":"café","jp":"日本","emoji":"😀"}');
$add('string_escaped_vs_raw_unicode_same', $k, <<<'JSON'
{"e":"caf\u00e9","jp":"\u65e5\u672c","emoji":"\uD83D\uDE00"}
JSON);
$add('string_empty', $k, '{"a":"","b":""}');
$add('string_lone_surrogate_invalid', $k, <<<'JSON'
{"a":"\ud800"}
JSON);
$add('keys_with_escapes', $k, <<<'JSON'
{"a\"b":"1","tab\tkey":"2","new\nline":"3","\u00e9":"4","sl\/ash":"5","back\\slash":"6"}
JSON);
$add('keys_raw_unicode', $k, '{"clé":"v","日本":{"キー":"値"}}');

// --- keys -------------------------------------------------------------------
$add('key_order_ab', $k, '{"a":"1","b":"2"}');
$add('key_order_ba', $k, '{"b":"2","a":"1"}');
$add('key_empty', $k, '{"":"v","a":"1"}');
$add('key_empty_nested', $k, '{"x":{"":"v"},"":{"":"w"}}');
$add('key_one_char', $k, '{"k":"v"}');
$add('key_200_chars', $k, '{"' . str_repeat('k', 200) . '":"v"}');
$add('keys_numeric_strings', $k, '{"0":"a","1":"b","01":"c","-1":"d","-0":"e","1.5":"f"}');
$add('keys_numeric_strings_nested', $k, '{"x":{"1":"a","0":"b"},"9223372036854775808":"big"}');

// --- secrets ----------------------------------------------------------------
$basic = '{"merchant_id":"m1","amount":"100.00"}';
$add('secret_empty', '', $basic);
$add('secret_short_k', 'k', $basic);
$add('secret_exactly_128_bytes', str_repeat('0123456789abcdef', 8), $basic);
$add('secret_127_bytes', substr(str_repeat('0123456789abcdef', 8), 0, 127), $basic);
$add('secret_129_bytes', str_repeat('0123456789abcdef', 8) . 'X', $basic);
$add('secret_200_bytes', str_repeat('s', 200), $basic);
$add('secret_non_ascii', 'clé-秘密-🔑', $basic);

// --- depth ------------------------------------------------------------------
// N objects nested below the top-level object: the innermost array is
// processed at recursion level N; level 16 throws.
$nest = function (int $n, string $inner, string $open = '{"a":', string $close = '}'): string {
    return '{"top":"t","a":' . str_repeat($open, $n - 1) . $inner . str_repeat($close, $n - 1) . '}';
};
$add('depth_15_nested_objects_below_top_ok', $k, $nest(15, '{"leaf":"v"}'));
$add('depth_16_nested_objects_below_top_rejected', $k, $nest(16, '{"leaf":"v"}'));
$add('depth_15_nested_empty_object_innermost_ok', $k, $nest(15, '{}'));
$add('depth_16_nested_empty_object_innermost_rejected', $k, $nest(16, '{}'));
$add('depth_16_nested_empty_list_innermost_rejected', $k, $nest(15, '{"e":[]}'));
$add('depth_15_nested_lists_below_top_ok', $k, '{"l":' . str_repeat('[', 15) . '"v"' . str_repeat(']', 15) . '}');
$add('depth_16_nested_lists_below_top_rejected', $k, '{"l":' . str_repeat('[', 16) . '"v"' . str_repeat(']', 16) . '}');
$add('depth_16_nested_after_other_fields_rejected', $k, '{"a":"1","b":"2","deep":' . str_repeat('{"x":', 15) . '{}' . str_repeat('}', 15) . '}');
$add('json_depth_600_exceeds_json_decode_limit', $k, str_repeat('[', 600) . str_repeat(']', 600));

// --- formatting --------------------------------------------------------------
$add('format_compact', $k, '{"a":"1","n":{"x":1,"y":[true,null]},"f":1.5}');
$add('format_pretty', $k, "{\n    \"a\": \"1\",\n    \"n\": {\n        \"x\": 1,\n        \"y\": [\n            true,\n            null\n        ]\n    },\n    \"f\": 1.5\n}");
$add('format_odd_whitespace', $k, " \t\r\n{ \"a\" :\"1\" ,\r\n\"n\":{ \"x\" : 1 , \"y\" : [ true , null ] } , \"f\" : 1.5 }\n ");
$add('format_whitespace_inside_strings_matters', $k, '{"a":" 1","n":{"x":1,"y":[true,null]},"f":1.5}');

// --- duplicate keys (PHP keeps the last value at the first key's position) ----
$add('duplicate_keys_top_level', $k, '{"a":"1","b":"2","a":"3"}', ['duplicate_keys' => true]);
$add('duplicate_keys_nested', $k, '{"x":{"k":"1","k":"2"},"y":"z"}', ['duplicate_keys' => true]);
$add('duplicate_keys_scalar_replaced_by_object', $k, '{"a":"1","b":"2","a":{"c":"3"}}', ['duplicate_keys' => true]);
$add('duplicate_keys_signature', $k, '{"signature":"x","a":"1","signature":{"s":"2"}}', ['duplicate_keys' => true]);

// --- invalid JSON -------------------------------------------------------------
$add('invalid_json_trailing_comma', $k, '{"a":"1",}');
$add('invalid_json_single_quotes', $k, "{'a':'1'}");
$add('invalid_json_empty_body', $k, '');
$add('invalid_json_truncated', $k, '{"a":"1"');
$add('invalid_json_leading_zero', $k, '{"a":01}');
$add('invalid_json_nan', $k, '{"a":NaN}');
$add('invalid_json_utf8_bom', $k, "\u{FEFF}{\"a\":\"1\"}");
$add('invalid_json_trailing_garbage', $k, '{"a":"1"} x');

// ---------------------------------------------------------------------------

function errorText(Throwable $e): string
{
    // TypeError messages end with ", called in /path/file.php on line N": drop it.
    return preg_replace('/, called in .* on line \d+$/s', '', $e->getMessage());
}

$records = [];
$names = [];
foreach ($cases as [$name, $secret, $body, $extra]) {
    if (isset($names[$name])) {
        fwrite(STDERR, "duplicate case name $name\n");
        exit(1);
    }
    $names[$name] = true;
    $rec = ['name' => $name, 'secret' => $secret, 'body' => $body, 'canonical' => null, 'signature' => null];
    try {
        $data = json_decode($body, true, 512, JSON_THROW_ON_ERROR);
        $signature = calculateSignature($data, $secret);
        $canonical = canonicalString($data);
        if (!hash_equals(hash_hmac('sha512', $canonical, $secret), $signature)) {
            throw new RuntimeException("twin mismatch in $name");
        }
        $rec['canonical'] = $canonical;
        $rec['signature'] = $signature;
    } catch (RuntimeException $e) {
        throw $e;
    } catch (Throwable $e) {
        $rec['error'] = errorText($e);
        $rec['error_class'] = get_class($e);
    }
    $records[] = $rec + $extra;
}

$out = [
    'recorded_with' => 'PHP ' . PHP_VERSION,
    'algorithm' => 'gateway calculateSignature (seeds 002/003) with the nested-return typo fixed: '
        . 'json_decode($body, true, 512, JSON_THROW_ON_ERROR); concatenate "$prefix$key" . $value for each '
        . 'non-array value in order (skipping non-array values whose key is \'signature\'), recurse into arrays '
        . 'with prefix "$prefix$key." (throw "Recursion level exceeded" when level >= 16, checked at the start '
        . 'of every call); hex HMAC-SHA512 of the string with the secret; floats rendered with precision=14',
    'cases' => $records,
];
echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";

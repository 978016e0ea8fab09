//! The fast path against the reference reader, on mutated bodies.

use super::super::reader::walk_with;

/// Mutations of typical and unusual bodies: byte deletions, flips,
/// insertions of JSON-significant pieces and copied segments.
fn mutated_bodies(per_base: usize) -> impl Iterator<Item = Vec<u8>> {
    let sig = "0123456789abcdef".repeat(8);
    let bases: Vec<String> = vec![
        String::from(r#"{"merchant_id":"e0fecd91fcb24f348048193b3fb34875ba3722b4","operation_type":17,"customer_id":"2250705145655","amount":1100,"order_id":"order_16280954971628","transaction_id":"1234567","status":2,"destination_id":"","result":{"code":0,"message":"OK"},"provider_result":{"code":0,"message":"OK"},"service_version":"1.03/1.14|1.0/1.26||1.01/1.27","service_date_time":"2020-11-25 10:08:32.832969","signature":"SIG"}"#).replace("SIG", &sig),
        r#"{ "a" : [1, 2.5, -0, 1e3, true, false, null, "x\u00e9\n", {"b": [ ]}, {}] , "signature" : {"c": "d"}, "k\u0061y": "v\/w", "é": "ü" }"#.into(),
        r#"{"a":{"b":{"c":{"d":[[[["x"]]]]}}},"signature":"AB\u0063","n":12345678901234567890,"f":0.1,"e":-1.5E-7}"#.into(),
        r#"{"x":"0123456789abcdef0123456789abcdef","y":"\ud83d\ude00","z":"\"q\" \\ b","signature":5,"s":{"signature":"x","t":1}}"#.into(),
        format!(
            "{{{}}}",
            (0..40)
                .map(|i| format!(r#""k{i}":{i}"#))
                .collect::<Vec<_>>()
                .join(",")
        ),
        r#"{"K":{"Kx":{"Ky":{"z":1,"w":"v"},"q":2},"r":[1,{"s":3}]},"t":4}"#
            .replace('K', &"k".repeat(70)),
        r#"{"x\u0041K":{"K\n":{"c":[{"K":1}]}}}"#.replace('K', &"k".repeat(70)),
        r#"{"a":{"x":"1","y":2,"z":"q","w":0,"v":"","u":10,"t":"s","s":3},"b":{},"e":{"signature":"s","f":1},"g":{"h":1.5,"k":"\u0041"},"i":{"j":{"k":1}},"l":{"m":"n","n":"m"},"p":{"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9}}"#.into(),
        format!("{}1{}", r#"{"a":"#.repeat(15), "}".repeat(15)),
        format!("{}{{}}{}", r#"{"a":"#.repeat(15), "}".repeat(15)),
        format!("{}{{\"b\":1}}{}", r#"{"a":"#.repeat(14), "}".repeat(14)),
        format!("{}1{}", r#"{"b":["#.repeat(8), "]}".repeat(8)),
    ];
    let pieces: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b" ",
        b"\n",
        b"0",
        b"-",
        b"1e",
        b".",
        b"\\u00",
        b"\\ud83d",
        b"\xc3\xa9",
        b"\xff",
        b"\x01",
        b"true",
        b"nul",
        b"\"a\":1,",
        b"\"signature\"",
        b"\"a\"",
        b"{\"a\":{\"b\":1}}",
        b"[1,[2]]",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    bases.into_iter().flat_map(move |base| {
        let base = base.into_bytes();
        (0..per_base)
            .map(|_| {
                let mut body = base.clone();
                for _ in 0..(next() % 4 + 1) {
                    let at = (next() as usize) % (body.len() + 1);
                    match next() % 5 {
                        0 if !body.is_empty() => {
                            body.remove(at.min(body.len() - 1));
                        }
                        1 if !body.is_empty() => {
                            let at = at.min(body.len() - 1);
                            body[at] = (next() >> 8) as u8;
                        }
                        2 => {
                            let piece = pieces[(next() as usize) % pieces.len()];
                            body.splice(at..at, piece.iter().copied());
                        }
                        3 if !body.is_empty() => {
                            let at = at.min(body.len() - 1);
                            let len = ((next() as usize) % 20).min(body.len() - at);
                            let segment = body[at..at + len].to_vec();
                            let to = (next() as usize) % (body.len() + 1);
                            body.splice(to..to, segment);
                        }
                        _ => {}
                    }
                }
                body
            })
            .collect::<Vec<_>>()
    })
}

#[test]
fn the_fast_path_never_changes_the_outcome() {
    let (mut cases, mut valid) = (0, 0);
    for body in mutated_bodies(4_000) {
        let fast = walk_with::<_, true>(&body, Vec::new());
        let general = walk_with::<_, false>(&body, Vec::new());
        let shown = String::from_utf8_lossy(&body);
        match (&fast, &general) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{shown}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{shown}"),
            _ => panic!(
                "{:?} vs {:?} on {shown}",
                fast.map(|_| ()),
                general.map(|_| ())
            ),
        }
        cases += 1;
        valid += usize::from(fast.is_ok());
    }
    // The mutations keep a fair share of bodies valid, so both
    // outcomes are compared often.
    assert!(valid * 10 > cases, "{valid} of {cases} valid");
}

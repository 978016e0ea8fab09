//! The documentation's printed examples are test vectors for the typed
//! models and the client's pre-flight: every request passes it (refusing
//! nothing the documentation itself sends), every response and callback
//! parses into its typed model.

use paygate::gateway::client::{validate_payment, BrandProfile};
use paygate::gateway::rules::Direction;
use paygate::gateway::{
    PaymentB2cRequest, PaymentC2bRequest, PaymentCallback, PaymentResponse, PosCallback,
    StatusRequest, WithdrawalRequest,
};
use paygate::hub2::models::NextAction;

#[derive(serde::Deserialize)]
struct Example {
    id: String,
    #[serde(default)]
    seed: String,
    kind: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    printed: String,
    body: String,
}

#[derive(serde::Deserialize)]
struct File {
    examples: Vec<Example>,
}

fn load(path: &str) -> Vec<Example> {
    let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str::<File>(&text)
        .expect("examples parse")
        .examples
}

/// A request example as sent: the PHP samples add their signature after
/// building the array.
fn with_signature(body: &str) -> String {
    if body.contains("\"signature\"") {
        body.to_owned()
    } else {
        format!("{},\"signature\":\"\"}}", body.trim_end_matches('}'))
    }
}

fn parse<T: serde::de::DeserializeOwned>(e: &Example, body: &str) -> T {
    serde_json::from_str(body).unwrap_or_else(|err| panic!("{}: {err}", e.id))
}

#[test]
fn every_gateway_example_parses_and_no_request_is_refused() {
    let examples = load("spec/gateway/examples.yaml");
    assert!(examples.len() >= 28, "{}", examples.len());
    let brand = BrandProfile::new("documentation", "http://localhost");
    let (mut requests, mut responses, mut callbacks) = (0, 0, 0);
    for e in &examples {
        match e.kind.as_str() {
            "request" => {
                requests += 1;
                let body = with_signature(&e.body);
                let found = match e.operation.as_str() {
                    "payment_c2b" => validate_payment(
                        &brand,
                        Direction::C2b,
                        &parse::<PaymentC2bRequest>(e, &body),
                    ),
                    "payment_b2c" => {
                        let b2c: PaymentB2cRequest = parse(e, &body);
                        let c2b: PaymentC2bRequest =
                            serde_json::from_value(serde_json::to_value(&b2c).unwrap()).unwrap();
                        validate_payment(&brand, Direction::B2c, &c2b)
                    }
                    "status" => {
                        let _: StatusRequest = parse(e, &body);
                        continue;
                    }
                    "withdrawal" => {
                        let w: WithdrawalRequest = parse(e, &body);
                        // "provider_id": "1003" is read as the number.
                        assert_eq!(w.provider_id, Some(1003), "{}", e.id);
                        continue;
                    }
                    other => panic!("{}: unexpected operation {other}", e.id),
                };
                assert!(
                    found.refusals.is_empty(),
                    "{}: the client refuses the documentation's own example: {:?}",
                    e.id,
                    found.refusals
                );
            }
            "response" => {
                responses += 1;
                let r: PaymentResponse = parse(e, &e.body);
                assert!(r.provider_result.is_some(), "{}: provider_result", e.id);
            }
            "callback" => {
                callbacks += 1;
                if e.operation == "deposit" || e.operation == "withdrawal" {
                    let _: PosCallback = parse(e, &e.body);
                } else {
                    let _: PaymentCallback = parse(e, &e.body);
                }
            }
            other => panic!("{}: unexpected kind {other}", e.id),
        }
    }
    assert_eq!((requests, responses, callbacks), (13, 10, 5));
}

#[test]
fn the_spaced_provider_result_is_read() {
    let examples = load("spec/gateway/examples.yaml");
    let b2c = examples
        .iter()
        .find(|e| e.id == "003/b2c-response")
        .expect("003/b2c-response");
    assert!(b2c.body.contains("\"provider result\""));
    let r: PaymentResponse = serde_json::from_str(&b2c.body).unwrap();
    assert_eq!(r.provider_result.map(|p| p.code), Some(0));
}

#[test]
fn the_documentation_examples_with_lenient_values_read_as_written() {
    let examples = load("spec/gateway/examples.yaml");
    let bf = examples
        .iter()
        .find(|e| e.id == "002/bf-otp-payment")
        .unwrap();
    let request: PaymentC2bRequest = serde_json::from_str(&bf.body).unwrap();
    assert_eq!(request.amount.to_string(), "1100.00");
    assert_eq!(request.provider_id, 9209);
    let php = examples
        .iter()
        .find(|e| e.id == "002/php-signing-sample")
        .unwrap();
    let request: PaymentC2bRequest = serde_json::from_str(&with_signature(&php.body)).unwrap();
    assert_eq!(
        request.customer_id, "254000000000",
        "client_id read as customer_id"
    );
    assert_eq!(request.amount.to_string(), "1000.00");
}

#[test]
fn the_hub2_example_parses_and_is_printed_in_its_seed() {
    for e in load("spec/hub2/examples.yaml") {
        let next: NextAction = parse(&e, &e.body);
        assert_eq!(next.r#type.as_str(), "otp");
        let dir = format!("{}/../../shared/seeds", env!("CARGO_MANIFEST_DIR"));
        let seed = std::fs::read_dir(&dir)
            .expect("the seeds beside the repository")
            .filter_map(Result::ok)
            .find(|f| f.file_name().to_string_lossy().starts_with(&e.seed))
            .expect("the seed file");
        let text = std::fs::read_to_string(seed.path()).unwrap();
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(norm(&text).contains(&norm(&e.printed)), "{}", e.id);
    }
}

//! The store's own tests: sharding, the daily maximum under races, holds.

use super::*;

fn payment(order_id: &str, customer_id: &str, minor: u64, status: i64) -> Transaction {
    let mut tx: Transaction = serde_json::from_value(serde_json::json!({
        "serial": 0, "public_id": "m", "order_id": order_id, "operation": "payment_c2b",
        "merchant_id": "", "customer_id": customer_id, "amount": "0", "provider_id": 2303,
        "destination_id": "", "callback_url": null, "sends_callback": true,
        "transaction_id": "", "transaction_ref": "", "status": 0, "provider_code": 0,
        "provider_message": "", "confirm_type": 0, "history": [],
        "redirect_url": null, "customer_message": null, "bank_details": null,
    }))
    .expect("a transaction");
    tx.amount = Amount::from_minor(minor);
    tx.set_status(status, "test");
    tx
}

#[test]
fn payments_racing_on_other_orders_never_pass_the_daily_maximum_together() {
    // 8 threads, 50 orders each, one customer: a maximum of 10
    // payments' worth lets exactly 10 through, whichever shards their
    // orders fall in.
    let store = Store::new();
    let accepted = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (store, accepted) = (&store, &accepted);
            scope.spawn(move || {
                for n in 0..50 {
                    let order = format!("o-{t}-{n}");
                    let tx = payment(&order, "2250700000000", 100, 1);
                    let mut guard = store.lock_order("m", &order);
                    if guard.insert_within_daily(tx, Some(1_000)).is_ok() {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(accepted.load(Ordering::Relaxed), 10);
    assert_eq!(store.transaction_count(), 10);
    let key = DailyKey::of(&payment("x", "2250700000000", 0, 1));
    assert_eq!(store.daily_total(&key), 1_000);
}

#[test]
fn orders_spread_over_the_shards_and_all_are_found() {
    let store = Store::new();
    for n in 0..2_000 {
        let order = format!("o-{n}");
        let mut guard = store.lock_order("m", &order);
        guard
            .insert(payment(&order, &format!("c{n}"), 100, 1))
            .expect("in memory");
    }
    assert_eq!(store.transaction_count(), 2_000);
    let used = store
        .shards
        .iter()
        .filter(|s| !lock(s).transactions.is_empty())
        .count();
    assert_eq!(used, SHARDS, "2 000 orders leave no shard empty");
    for n in 0..2_000 {
        assert!(store.get_cloned("m", &format!("o-{n}")).is_some());
    }
    // Several orders locked at once, each readable through the guard.
    let orders: Vec<String> = (0..100).map(|n| format!("o-{n}")).collect();
    let guard = store.lock_orders("m", orders.iter().map(String::as_str));
    assert!(orders.iter().all(|o| guard.get("m", o).is_some()));
    drop(guard);
    store.reset();
    assert_eq!(store.transaction_count(), 0);
    assert!(store.get_cloned("m", "o-1").is_none());
}

#[test]
fn a_hold_is_taken_once_oldest_first_and_only_while_still_held() {
    let store = Store::new();
    for (order, minor) in [("h1", 500), ("h2", 2_000), ("h3", 2_000)] {
        let mut guard = store.lock_order("m", order);
        guard
            .insert(payment(order, "c", minor, 6))
            .expect("in memory");
    }
    // h1 covers too little; h2 is the oldest that covers 1 000.
    assert_eq!(
        store
            .take_hold("m", "c", Amount::from_minor(1_000))
            .as_deref(),
        Some("h2")
    );
    // h3 settled meanwhile (a forced outcome): no longer a hold.
    store
        .lock_order("m", "h3")
        .get_mut("m", "h3")
        .expect("h3")
        .status = 2;
    assert_eq!(store.take_hold("m", "c", Amount::from_minor(1_000)), None);
    assert_eq!(
        store
            .take_hold("m", "c", Amount::from_minor(500))
            .as_deref(),
        Some("h1")
    );
    assert_eq!(store.take_hold("m", "c", Amount::from_minor(1)), None);
}

//! The README's clock-and-faults example runs as printed: every answer
//! dropped yet the payment resolved by status, nothing called back before
//! the clock moves, the duplicated callback handled once.

#[path = "../examples/clock_and_faults.rs"]
mod example;

#[tokio::test]
async fn the_clock_and_faults_example_runs() {
    example::run().await.expect("the example's scenario holds");
}

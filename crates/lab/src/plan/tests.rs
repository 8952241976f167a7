use super::makespan;

#[test]
fn makespan_of_equal_runs_is_the_rounds_they_need() {
    // 5 runs of 2 s on 2 workers: rounds of 2, 2 and 1 run.
    assert_eq!(makespan(&[2.0; 5], 2), 6.0);
    assert_eq!(makespan(&[2.0; 4], 4), 2.0);
    assert_eq!(makespan(&[2.0; 3], 8), 2.0);
}

#[test]
fn makespan_on_one_worker_is_the_sum() {
    assert_eq!(makespan(&[1.0, 2.5, 0.5], 1), 4.0);
}

#[test]
fn makespan_starts_runs_in_order_on_the_first_free_worker() {
    // Worker A: 3, then 1 (free at 3 < 4) → 4; worker B: 4, then 2 → 6.
    assert_eq!(makespan(&[3.0, 4.0, 1.0, 2.0], 2), 6.0);
    assert_eq!(makespan(&[], 3), 0.0);
}

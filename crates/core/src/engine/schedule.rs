//! Which steps of a plan may run at the same time, and running them so.
//!
//! A run's wall time is bounded below by WorkOS's `/user_management` write
//! limit, which only the users and memberships steps (and TOTP enrollment
//! inside users) spend. Everything else (assessing the source, writing
//! organizations and roles through their own bucket, the MFA lists) can
//! overlap with them instead of adding to the wall time. [`waits_for`] is
//! the pure rule: a step waits only for the earlier steps whose journal
//! records it reads. [`run`] starts each step as soon as what it waits for
//! has finished.

use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::plan::StepKind;

/// The earlier steps (by position in the plan) each step must wait for:
/// those whose records it reads ([`StepKind::waits_for`]). `memberships`
/// starts beside `users` and `verify` beside `memberships`, and each waits
/// for the other inside, before the work that needs it
/// ([`crate::steps::ended`]), so WorkOS's write limit is never idle
/// between them. A step that appears twice waits for its earlier self, so
/// its two runs never share records.
pub fn waits_for(steps: &[StepKind]) -> Vec<Vec<usize>> {
    steps
        .iter()
        .enumerate()
        .map(|(at, step)| {
            (0..at)
                .filter(|&earlier| step.waits_for(steps[earlier]))
                .collect()
        })
        .collect()
}

/// Runs `steps` (not yet started futures, in plan order), each once what
/// it waits for has finished. After a result for which `stop(result)` is
/// true, no step that has not started yet starts (each is told to
/// `never`); the steps in flight finish. Returns each step's result,
/// `None` for a step that never started.
pub async fn run<F>(
    steps: Vec<F>,
    waits: &[Vec<usize>],
    stop: impl Fn(&F::Output) -> bool,
    never: impl Fn(usize),
) -> Vec<Option<F::Output>>
where
    F: Future,
{
    let count = steps.len();
    let mut pending: Vec<Option<F>> = steps.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..count).map(|_| None).collect();
    let mut running = FuturesUnordered::new();
    let mut stopped = false;
    loop {
        if !stopped {
            for at in 0..count {
                let ready = waits[at].iter().all(|&earlier| results[earlier].is_some());
                if ready && let Some(step) = pending[at].take() {
                    running.push(async move { (at, step.await) });
                }
            }
        }
        let Some((at, result)) = running.next().await else {
            break;
        };
        results[at] = Some(result);
        if !stopped && stop(results[at].as_ref().expect("just set")) {
            stopped = true;
            for (at, step) in pending.iter_mut().enumerate() {
                if step.take().is_some() {
                    never(at);
                }
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use super::*;

    /// Every step, in the reference plan's order.
    use StepKind::*;
    const REFERENCE: &[StepKind] = &StepKind::ALL;

    #[test]
    fn the_reference_plan_overlaps_around_the_write_limit() {
        assert_eq!(
            waits_for(REFERENCE),
            vec![
                vec![],
                vec![],
                vec![],
                // Connections go into the organizations ferry made.
                vec![2],
                vec![],
                // Not users: memberships waits for it inside.
                vec![2, 4],
                // Invitations never go to someone who is a member already.
                vec![1, 2, 4, 5],
                vec![1, 3],
                // Not memberships or invitations: verify waits for them inside.
                vec![0, 1, 2, 3, 4, 7],
            ]
        );
    }

    #[test]
    fn a_step_waits_only_for_what_comes_before_it() {
        // Memberships before users (an odd plan) do not wait for a later step.
        assert_eq!(
            waits_for(&[Memberships, Users, Users, Verify]),
            vec![vec![], vec![], vec![1], vec![1, 2]]
        );
        assert_eq!(
            waits_for(&[Organizations, Memberships, Roles]),
            vec![vec![], vec![0], vec![]]
        );
    }

    /// Steps that record when they start and end, with a delay each.
    async fn traced(
        delays: &[u64],
        waits: &[Vec<usize>],
        stop_after: Option<usize>,
    ) -> Vec<String> {
        let trace = RefCell::new(Vec::new());
        let steps = delays
            .iter()
            .enumerate()
            .map(|(at, &ms)| {
                let trace = &trace;
                async move {
                    trace.borrow_mut().push(format!("start {at}"));
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    trace.borrow_mut().push(format!("end {at}"));
                    at
                }
            })
            .collect();
        let never = RefCell::new(Vec::new());
        let results = run(
            steps,
            waits,
            |&at| Some(at) == stop_after,
            |at| never.borrow_mut().push(at),
        )
        .await;
        assert_eq!(
            never.into_inner(),
            results
                .iter()
                .enumerate()
                .filter(|(_, r)| r.is_none())
                .map(|(at, _)| at)
                .collect::<Vec<_>>(),
            "each step that never starts is told so"
        );
        let mut trace = trace.into_inner();
        trace.push(format!(
            "never started: {:?}",
            results
                .iter()
                .enumerate()
                .filter(|(_, r)| r.is_none())
                .map(|(at, _)| at)
                .collect::<Vec<_>>()
        ));
        trace
    }

    #[tokio::test(start_paused = true)]
    async fn independent_steps_run_at_once_and_dependants_after() {
        // users (100 ms) ∥ organizations (10) ∥ roles (20); memberships
        // waits for organizations and roles.
        let trace = traced(
            &[100, 10, 20, 10],
            &waits_for(&[Users, Organizations, Roles, Memberships]),
            None,
        )
        .await;
        assert_eq!(
            trace,
            [
                "start 0",
                "start 1",
                "start 2",
                "end 1",
                "end 2",
                "start 3",
                "end 3",
                "end 0",
                "never started: []"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_lets_running_steps_finish_and_starts_nothing_new() {
        let trace = traced(
            &[100, 10, 10],
            &waits_for(&[Users, Organizations, Memberships]),
            Some(1),
        )
        .await;
        assert_eq!(
            trace,
            ["start 0", "start 1", "end 1", "end 0", "never started: [2]"]
        );
    }
}

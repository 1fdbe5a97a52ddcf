//! Jobs and CronJobs.
//!
//! - Job: `Failed True` fails with its reason (`BackoffLimitExceeded`,
//!   `DeadlineExceeded`) and message; `Complete True` passes; otherwise running (active
//!   pods) passes with the counts, and a suspended job passes, noted.
//! - CronJob: its own state only notes `suspend` and the last schedule time; whether it
//!   works is its newest Job's state (`CronJob → Jobs` by owner reference, newest by
//!   creation time): a CronJob whose last Job failed fails, while older failed Jobs
//!   that a later success superseded do not count.

use serde_json::Value;

use super::{Finding, condition};
use crate::kubernetes::object;
use crate::state::State;

/// A Job's conditions and pod counts.
pub fn job(j: &Value) -> Vec<Finding> {
    let st = &j["status"];
    if let Some(c) = object::condition(j, "Failed").filter(|c| c.status != "False") {
        return vec![condition(&c, "False", State::Failing)];
    }
    if let Some(c) = object::condition(j, "Complete").filter(|c| c.is_true()) {
        let succeeded = object::int(&st["succeeded"], 0);
        return vec![(
            State::Passing,
            format!("{} ({succeeded} succeeded)", c.explain()),
        )];
    }
    if j["spec"]["suspend"].as_bool() == Some(true) {
        return vec![(State::Passing, "suspended".to_owned())];
    }
    let active = object::int(&st["active"], 0);
    let failed = object::int(&st["failed"], 0);
    let state = if failed > 0 {
        State::Degraded
    } else {
        State::Passing
    };
    vec![(
        state,
        format!("running: {active} active, {failed} failed pods"),
    )]
}

/// A CronJob's own fields (its Jobs are judged through the registry).
pub fn cron_job(c: &Value) -> Vec<Finding> {
    let mut text = if c["spec"]["suspend"].as_bool() == Some(true) {
        "suspended".to_owned()
    } else {
        format!("schedule {}", c["spec"]["schedule"].as_str().unwrap_or("?"))
    };
    match c["status"]["lastScheduleTime"].as_str() {
        Some(t) => text.push_str(&format!(", last scheduled {t}")),
        None => text.push_str(", never scheduled"),
    }
    vec![(State::Passing, text)]
}

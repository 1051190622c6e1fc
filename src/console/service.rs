//! The console's view: the filter checked, the live rooms with who is in them, the alerts,
//! warnings and disputes of the tenders in scope. Supervisors only.

use std::collections::{BTreeMap, BTreeSet};

use super::repo::{self, Scoped, LIVE};
use super::types::{AlertRow, Choices, ConsoleView, DisputeRow, Filter, RoomRow, WarningRow};
use crate::alerts::types::Stage;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::hub::Hub;
use crate::plan::ProcurementMethod;
use crate::state::AppState;

/// Alerts read for the console, newest first.
const ALERTS: i64 = 200;
/// Tenders named by rooms, alerts and disputes looked up at most (each a bound value).
const MAX_ALSO: usize = 500;
const CATEGORIES: [&str; 3] = ["goods", "services", "works"];
/// The kinds of room, each with the page that joins it.
const KINDS: [&str; 3] = ["opening", "evaluation", "rounds"];

/// The filter, trimmed and checked: an unknown region, method or category, or a day not
/// `YYYY-MM-DD`, is `VALIDATION` on its field.
async fn checked(state: &AppState, mut f: Filter) -> AppResult<Filter> {
    for v in [
        &mut f.region,
        &mut f.purchaser,
        &mut f.agency,
        &mut f.method,
        &mut f.category,
        &mut f.from,
        &mut f.to,
    ] {
        *v = v.trim().chars().take(64).collect();
    }
    if !f.region.is_empty() {
        let [regions, _, _] = repo::choices(&state.db.pool).await?;
        if !regions.iter().any(|r| r.id == f.region) {
            return Err(AppError::field("region", "未知的行政区划 / unknown region"));
        }
    }
    if !f.method.is_empty() && ProcurementMethod::parse(&f.method).is_none() {
        return Err(AppError::field("method", "未知的采购方式 / unknown method"));
    }
    if !f.category.is_empty() && !CATEGORIES.contains(&f.category.as_str()) {
        return Err(AppError::field(
            "category",
            "未知的品目类别 / unknown category",
        ));
    }
    for (field, day) in [("from", &f.from), ("to", &f.to)] {
        if !day.is_empty() && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() {
            return Err(AppError::field(
                field,
                "日期格式为 YYYY-MM-DD / a day, YYYY-MM-DD",
            ));
        }
    }
    Ok(f)
}

/// The room a live tender is in now, and its phase and window.
fn primary(s: &Scoped) -> Option<(&'static str, String, Option<i64>)> {
    match s.tender.status.as_str() {
        "sealed" => Some(("opening", "sealed".into(), None)),
        "opening" => {
            let phase = s.opening_phase.clone().unwrap_or_else(|| "opening".into());
            let ends = match phase.as_str() {
                "decrypting" => s.decrypt_ends_at,
                "confirming" => s.confirm_ends_at,
                _ => None,
            };
            Some(("opening", phase, ends))
        }
        "evaluating" => Some(match (&s.negotiation, &s.round_status) {
            (Some(_), Some(round)) if round != "revealed" => {
                ("rounds", format!("round_{round}"), None)
            }
            (Some(n), _) => ("rounds", n.clone(), None),
            (None, _) => (
                "evaluation",
                s.evaluation_phase
                    .clone()
                    .unwrap_or_else(|| "evaluating".into()),
                None,
            ),
        }),
        _ => None,
    }
}

fn link(kind: &str, tender_id: &str) -> String {
    format!("/{kind}.html?tender={tender_id}")
}

pub async fn view(state: &AppState, user: &CurrentUser, filter: Filter) -> AppResult<ConsoleView> {
    if !user.role.is_supervisor() {
        return Err(AppError::Forbidden);
    }
    let f = checked(state, filter).await?;
    let pool = &state.db.pool;
    let hub = Hub::of(state);

    // Rooms someone is in now, by tender.
    let mut open_rooms: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for name in hub.live_rooms(state).await? {
        if let Some((kind, id)) = name.split_once(':') {
            if let Some(kind) = KINDS.iter().find(|k| **k == kind) {
                open_rooms.entry(id.to_string()).or_default().insert(kind);
            }
        }
    }
    let alerts = crate::alerts::service::list(state, user, false, ALERTS).await?;
    let disputes = repo::disputes(pool).await?;
    let also: Vec<String> = open_rooms
        .keys()
        .cloned()
        .chain(
            alerts
                .iter()
                .filter(|a| a.subject.kind == "tender")
                .map(|a| a.subject.id.clone()),
        )
        .chain(disputes.iter().map(|d| d.0.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(MAX_ALSO)
        .collect();
    let scoped = repo::tenders(pool, &f, &also).await?;

    // Each tender's rooms: the one its phase is in, and any other someone is in now.
    let mut candidates: Vec<(&Scoped, &'static str, String, Option<i64>)> = Vec::new();
    for s in &scoped {
        let main = primary(s);
        if let Some((kind, phase, ends_at)) = main.clone() {
            candidates.push((s, kind, phase, ends_at));
        }
        for kind in open_rooms.get(&s.tender.id).into_iter().flatten() {
            if main.as_ref().is_none_or(|m| m.0 != *kind) {
                candidates.push((s, kind, s.tender.status.clone(), None));
            }
        }
    }
    // Who is in each, asked of every room at once (each answers within a second).
    let names: Vec<String> = candidates
        .iter()
        .map(|(s, kind, _, _)| format!("{kind}:{}", s.tender.id))
        .collect();
    let present =
        futures_util::future::join_all(names.iter().map(|n| hub.present_anywhere(state, n))).await;
    let rooms: Vec<RoomRow> = candidates
        .into_iter()
        .zip(present)
        .filter_map(|((s, kind, phase, ends_at), present)| {
            let present = present.unwrap_or_default();
            let live = LIVE.contains(&s.tender.status.as_str());
            (live || !present.is_empty()).then(|| RoomRow {
                kind,
                phase,
                ends_at,
                link: link(kind, &s.tender.id),
                tender: s.tender.clone(),
                present,
            })
        })
        .collect();

    let mut warnings = Vec::new();
    for s in &scoped {
        let id = &s.tender.id;
        if s.tender.status == "evaluating" {
            let head = crate::tender::repo::head(pool, id)
                .await?
                .ok_or(AppError::NotFound)?;
            if let Some(tally) = crate::collusion::service::tally(state, user, &head).await? {
                if tally.open + tally.confirmed > 0 {
                    warnings.push(WarningRow {
                        tender: s.tender.clone(),
                        tally,
                        link: link("warnings", id),
                    });
                }
            }
        }
    }
    let by_id: BTreeMap<&str, &Scoped> = scoped.iter().map(|s| (s.tender.id.as_str(), s)).collect();
    let disputes = disputes
        .into_iter()
        .filter_map(|(id, challenges, complaints)| {
            by_id.get(id.as_str()).map(|s| DisputeRow {
                tender: s.tender.clone(),
                challenges,
                complaints,
                link: link("challenges", &id),
            })
        })
        .collect();
    let alerts = alerts
        .into_iter()
        .filter(|a| a.stage != Stage::Upcoming)
        .filter_map(|a| {
            let tender = (a.subject.kind == "tender")
                .then(|| by_id.get(a.subject.id.as_str()).map(|s| s.tender.clone()));
            match tender {
                // About a tender: shown when it is in scope.
                Some(Some(t)) => Some(AlertRow {
                    alert: a,
                    tender: Some(t),
                }),
                Some(None) => None,
                // About a plan or an approval: shown when nothing is filtered.
                None => f.is_empty().then_some(AlertRow {
                    alert: a,
                    tender: None,
                }),
            }
        })
        .collect();
    let [regions, purchasers, agencies] = repo::choices(pool).await?;
    Ok(ConsoleView {
        now: state.clock.now_ms(),
        filter: f,
        rooms,
        alerts,
        warnings,
        disputes,
        choices: Choices {
            regions,
            purchasers,
            agencies,
            methods: ProcurementMethod::ALL.iter().map(|m| m.as_str()).collect(),
            categories: CATEGORIES.to_vec(),
        },
    })
}

//! Giving ratings; what a user rates and has rated; the aggregates.

use serde_json::json;

use super::repo;
use super::rules::{self, Party, CRITERIA};
use super::types::{Ack, Command, RatingError, RatingsView, Summary, ToRate};
use crate::auth::{CurrentUser, Role};
use crate::contract::repo::Facts;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{LedgerEvent, RatingGiven};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

/// The tender's seated experts: (expert id, name).
type Panel = Vec<(String, String)>;

/// The party `user` rates for on contract `c`, and the rater's id (its organisation, or
/// its expert record for a seated expert).
fn party_of(
    user: &CurrentUser,
    head: &TenderHead,
    c: &Facts,
    expert_id: Option<&str>,
    panel: &Panel,
) -> Option<(Party, String)> {
    let org = user.org_id.as_deref();
    match user.role {
        Role::Purchaser if org == Some(c.purchaser_org_id.as_str()) => {
            Some((Party::Purchaser, c.purchaser_org_id.clone()))
        }
        Role::Agency if org == Some(head.agency_org_id.as_str()) => {
            Some((Party::Agency, head.agency_org_id.clone()))
        }
        Role::Supplier if org == Some(c.supplier_org_id.as_str()) => {
            Some((Party::Supplier, c.supplier_org_id.clone()))
        }
        Role::Expert => expert_id
            .filter(|e| panel.iter().any(|(id, _)| id == e))
            .map(|e| (Party::Expert, e.to_string())),
        _ => None,
    }
}

async fn org_name<'e, E>(exec: E, id: &str) -> AppResult<String>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(exec)
            .await?
            .unwrap_or_default(),
    )
}

/// Whom of `party` a contract's ratings name: (id, name).
async fn ratees<'e, E>(
    exec: E,
    party: Party,
    head: &TenderHead,
    c: &Facts,
    panel: &Panel,
) -> AppResult<Vec<(String, String)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let org = match party {
        Party::Expert => return Ok(panel.clone()),
        Party::Purchaser => &c.purchaser_org_id,
        Party::Agency => &head.agency_org_id,
        Party::Supplier => &c.supplier_org_id,
    };
    Ok(vec![(org.clone(), org_name(exec, org).await?)])
}

async fn expert_id(state: &AppState, user: &CurrentUser) -> AppResult<Option<String>> {
    if user.role != Role::Expert {
        return Ok(None);
    }
    Ok(crate::committee::access::expert_id(&state.db.pool, user).await?)
}

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    let expert = expert_id(state, user).await?;
    let Command::Rate {
        contract_id,
        ratee_party,
        ratee,
        scores,
        comment,
    } = cmd;
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let c = crate::contract::repo::of_tender(&mut **tx, &head.id, &contract_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let panel = crate::committee::repo::seated_experts(&mut **tx, &head.id).await?;
    let (party, rater) =
        party_of(user, head, &c, expert.as_deref(), &panel).ok_or(AppError::Forbidden)?;
    if crate::acceptance::repo::accepted_at(&mut **tx, &c.id)
        .await?
        .is_none()
    {
        return Err(RatingError::NotAccepted.into());
    }
    let criteria = rules::criteria(party, ratee_party).ok_or_else(|| {
        AppError::field("ratee_party", "不评价该方 / this party is not rated by you")
    })?;
    let names = ratees(&mut **tx, ratee_party, head, &c, &panel).await?;
    let Some((_, ratee_name)) = names.iter().find(|(id, _)| *id == ratee) else {
        return Err(AppError::field(
            "ratee",
            "不是本合同的当事方 / not a party of this contract",
        ));
    };
    let comment = comment.trim().to_string();
    rules::check(criteria, &scores, &comment)
        .map_err(|(field, message)| AppError::field(field, message))?;
    let given: Option<String> = sqlx::query_scalar(
        "SELECT id FROM ratings WHERE contract_id = $1 AND rater_party = $2 AND rater = $3 \
         AND ratee_party = $4 AND ratee = $5",
    )
    .bind(&c.id)
    .bind(party.as_str())
    .bind(&rater)
    .bind(ratee_party.as_str())
    .bind(&ratee)
    .fetch_optional(&mut **tx)
    .await?;
    if given.is_some() {
        return Err(RatingError::Rated.into());
    }
    let id = crate::org::service::new_id();
    let mean = rules::mean_centi(&scores);
    let record = json!({
        "rating_id": id, "contract_id": c.id, "rater_party": party, "rater": rater,
        "ratee_party": ratee_party, "ratee": ratee, "ratee_name": ratee_name,
        "scores": scores, "comment": comment, "rated_at": now,
    });
    sqlx::query(
        "INSERT INTO ratings (id, tender_id, contract_id, rater_party, rater, rater_user_id, \
         ratee_party, ratee, scores, mean_centi, comment, rated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(&head.id)
    .bind(&c.id)
    .bind(party.as_str())
    .bind(&rater)
    .bind(&user.id)
    .bind(ratee_party.as_str())
    .bind(&ratee)
    .bind(json!(scores).to_string())
    .bind(mean)
    .bind(&comment)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for (criterion, score) in &scores {
        sqlx::query(
            "INSERT INTO rating_scores (rating_id, ratee_party, ratee, criterion, score) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(ratee_party.as_str())
        .bind(&ratee)
        .bind(criterion)
        .bind(*score)
        .execute(&mut **tx)
        .await?;
    }
    // The ledger keeps the rating by digest: who rated whom, and how, is the parties'
    // and the supervisors' to read, not the public ledger's.
    let event = RatingGiven {
        rating_id: id.clone(),
        contract_id: c.id.clone(),
        rating_sha256: crate::ledger::canonical_sha256(&record),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::RatingGiven(event),
    )
    .await?;
    a.commit(state).await?;
    Ok(Ack {
        rating_id: id,
        mean_centi: mean,
    })
}

pub async fn view(
    state: &AppState,
    user: Option<&CurrentUser>,
    tender_id: &str,
) -> AppResult<RatingsView> {
    let pool = &state.db.pool;
    let head = crate::tender::repo::published_head(pool, tender_id).await?;
    let Some(user) = user else {
        return Ok(RatingsView {
            tender_id: tender_id.to_string(),
            my_party: None,
            to_rate: Vec::new(),
            all: None,
        });
    };
    let expert = expert_id(state, user).await?;
    let panel = crate::committee::repo::seated_experts(pool, tender_id).await?;
    let given = repo::of_tender(pool, tender_id).await?;
    let mut my_party = None;
    let mut to_rate = Vec::new();
    for c in crate::contract::repo::signed_of_tender(pool, tender_id).await? {
        let Some((party, rater)) = party_of(user, &head, &c, expert.as_deref(), &panel) else {
            continue;
        };
        my_party = Some(party);
        if crate::acceptance::repo::accepted_at(pool, &c.id)
            .await?
            .is_none()
        {
            continue;
        }
        for (ratee_party, criteria) in CRITERIA
            .iter()
            .filter(|(r, _, _)| *r == party)
            .map(|(_, e, c)| (*e, *c))
        {
            for (ratee, ratee_name) in ratees(pool, ratee_party, &head, &c, &panel).await? {
                let mine = given
                    .iter()
                    .find(|g| {
                        g.contract_id == c.id
                            && g.rater_party == party.as_str()
                            && g.rater == rater
                            && g.ratee_party == ratee_party.as_str()
                            && g.ratee == ratee
                    })
                    .cloned();
                to_rate.push(ToRate {
                    contract_id: c.id.clone(),
                    contract_no: c.document["contract_no"].clone(),
                    ratee_party,
                    ratee,
                    ratee_name,
                    criteria,
                    given: mine,
                });
            }
        }
    }
    Ok(RatingsView {
        tender_id: tender_id.to_string(),
        my_party,
        to_rate,
        all: user.role.is_supervisor().then_some(given),
    })
}

/// The aggregates: every organisation's and expert's to the supervisors, a user's own
/// organisation's (or its own, for an expert) to anyone else.
pub async fn summaries(state: &AppState, user: &CurrentUser) -> AppResult<Vec<Summary>> {
    let pool = &state.db.pool;
    if user.role.is_supervisor() {
        return Ok(repo::summaries(pool, None).await?);
    }
    let own: Vec<String> = match user.role {
        Role::Expert => expert_id(state, user).await?.into_iter().collect(),
        _ => user.org_id.clone().into_iter().collect(),
    };
    Ok(repo::summaries(pool, Some(&own)).await?)
}

//! The financing applications (migration 0028), and what payment reads of them.

use super::types::{ApplicationView, Bank, PayTo};

const APPLICATION_SQL: &str = "SELECT f.id, f.tender_id, f.contract_id, f.supplier_org_id, \
     s.name AS supplier_name, f.bank_org_id, b.name AS bank_name, f.amount_fen, f.note, \
     f.status, f.applied_at, f.decided_at, f.approved_fen, f.account_name, f.account_no, \
     f.reason FROM financing_applications f \
     JOIN organisations s ON s.id = f.supplier_org_id \
     JOIN organisations b ON b.id = f.bank_org_id";

fn view(r: &sqlx::any::AnyRow) -> sqlx::Result<ApplicationView> {
    use sqlx::Row;
    Ok(ApplicationView {
        id: r.try_get("id")?,
        tender_id: r.try_get("tender_id")?,
        contract_id: r.try_get("contract_id")?,
        supplier_org_id: r.try_get("supplier_org_id")?,
        supplier_name: r.try_get("supplier_name")?,
        bank_org_id: r.try_get("bank_org_id")?,
        bank_name: r.try_get("bank_name")?,
        amount_fen: r.try_get("amount_fen")?,
        note: r.try_get("note")?,
        status: r.try_get("status")?,
        applied_at: r.try_get("applied_at")?,
        decided_at: r.try_get("decided_at")?,
        approved_fen: r.try_get("approved_fen")?,
        account_name: r.try_get("account_name")?,
        account_no: r.try_get("account_no")?,
        reason: r.try_get("reason")?,
    })
}

async fn query<'e, E>(exec: E, filter: &str, arg: &str) -> sqlx::Result<Vec<ApplicationView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "{APPLICATION_SQL} WHERE {filter} ORDER BY f.applied_at DESC, f.id LIMIT 500"
    ))
    .bind(arg)
    .fetch_all(exec)
    .await?
    .iter()
    .map(view)
    .collect()
}

pub async fn one<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<ApplicationView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(query(exec, "f.id = $1", id).await?.pop())
}

pub async fn of_tender<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<ApplicationView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    query(exec, "f.tender_id = $1", tender_id).await
}

pub async fn of_contract<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<Vec<ApplicationView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    query(exec, "f.contract_id = $1", contract_id).await
}

/// The applications a bank was asked, or a supplier made (the newest 500).
pub async fn of_org<'e, E>(exec: E, org_id: &str, bank: bool) -> sqlx::Result<Vec<ApplicationView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let filter = if bank {
        "f.bank_org_id = $1"
    } else {
        "f.supplier_org_id = $1"
    };
    query(exec, filter, org_id).await
}

/// Where a contract is paid: its approved financing's account, if any.
pub async fn pay_to<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<Option<PayTo>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(of_contract(exec, contract_id)
        .await?
        .into_iter()
        .find(|a| a.status == "approved")
        .map(|a| PayTo {
            application_id: a.id,
            bank_org_id: a.bank_org_id,
            bank_name: a.bank_name,
            account_name: a.account_name.unwrap_or_default(),
            account_no: a.account_no.unwrap_or_default(),
        }))
}

pub async fn banks<'e, E>(exec: E) -> sqlx::Result<Vec<Bank>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as::<_, (String, String)>(
        "SELECT id, name FROM organisations WHERE kind = 'bank' ORDER BY name LIMIT 200",
    )
    .fetch_all(exec)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|(id, name)| Bank { id, name })
            .collect()
    })
}

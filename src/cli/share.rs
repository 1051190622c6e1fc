//! `kaibiao share check`: a custodian unseals their share of a tender's opening key with
//! their own key file and checks it against the published commitments — before the
//! opening, so a bad share is found while it can still be fixed. `kaibiao share submit`
//! does the same at the opening and sends the share (docs/opening.md).

use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use reqwest::Method;
use serde_json::Value;

use super::client::Client;
use crate::crypto::{hpke, vss};
use crate::tender::opening_key::{share_aad, SHARE_INFO};

pub async fn check(server: &str, user: &str, key_file: &Path, tender: &str) -> anyhow::Result<()> {
    unseal_checked(server, user, key_file, tender, "kaibiao share check").await?;
    Ok(())
}

/// Unseals, checks and sends the share at the opening's unsealing step.
pub async fn submit(server: &str, user: &str, key_file: &Path, tender: &str) -> anyhow::Result<()> {
    let (client, share) =
        unseal_checked(server, user, key_file, tender, "kaibiao share submit").await?;
    let v: Value = client
        .call(
            Method::POST,
            &format!("/api/tenders/{tender}/opening"),
            Some(serde_json::json!({
                "type": "share", "index": share.index, "value": hex::encode(share.value),
            })),
        )
        .await?;
    println!(
        "已提交 / submitted: share {} ({} of {} needed)",
        share.index, v["shares"], v["threshold"]
    );
    Ok(())
}

async fn unseal_checked(
    server: &str,
    user: &str,
    key_file: &Path,
    tender: &str,
    label: &str,
) -> anyhow::Result<(Client, vss::Share)> {
    let keys = super::keys::open_key_file(key_file)?;
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(server, user, &password, label).await?;
    let mine: Value = client
        .call(
            Method::GET,
            &format!("/api/tenders/{tender}/my-share"),
            None,
        )
        .await?;
    let announced: Value = client
        .call(Method::GET, &format!("/api/announcements/{tender}"), None)
        .await?;
    if mine["opening_key"] != announced["opening_key"] {
        bail!("the commitments given to you differ from the announced ones");
    }
    let index = mine["index"].as_u64().context("index")? as u32;
    let sealed: hpke::Sealed = serde_json::from_value(mine["sealed"].clone())?;
    let value = hpke::open(
        &keys.encryption,
        SHARE_INFO,
        &share_aad(tender, index),
        &sealed,
    )
    .map_err(|e| anyhow::anyhow!("your key file does not open this share ({})", e.code()))?;
    let share = vss::Share {
        index,
        value: value
            .try_into()
            .map_err(|_| anyhow::anyhow!("a share is 32 bytes"))?,
    };
    let commitments = mine["opening_key"]["commitments"]
        .as_array()
        .context("commitments")?
        .iter()
        .map(|c| B64.decode(c.as_str().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    if !vss::verify_share(&share, &commitments) {
        bail!("share {index} does NOT match the published commitments: tell the agency and finance now");
    }
    // The commitments are as many as the threshold; the custodians are listed on the tender.
    let tender_view: Value = client
        .call(Method::GET, &format!("/api/tenders/{tender}"), None)
        .await?;
    let custodians = tender_view["custodians"].as_array().map_or(0, Vec::len);
    println!(
        "OK: 第 {index} 份密钥分片与公告的承诺一致 / share {index} matches the announced commitments (threshold {} of {})",
        mine["opening_key"]["threshold"],
        custodians
    );
    Ok((client, share))
}
